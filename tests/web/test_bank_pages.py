"""The bank details page, the paying account on the program settings page and the payment
file from the payout batch page: masked everywhere, whole only in the treasurer's file."""

from accounts.models import BankDetails
from ledger import services
from ledger.models import PayerAccount
from tests.conftest import DE, PAYER, SECRETS, TODAY, make_program
from tests.exports.sepa_tools import read, xmlschema_errors


def html(response) -> str:
    return response.content.decode()


def test_an_artist_sets_changes_and_removes_bank_details(client_for, artist):
    client = client_for(artist)
    page = html(client.get("/account/bank/"))
    assert 'href="/account/bank/"' in page  # the account menu links it
    assert "IBAN on file" in page and "Save bank details" in page

    refused = client.post("/account/bank/", {"iban": "DE89370400440532013001", "bic": ""})
    assert refused.status_code == 200
    assert "check digits" in html(refused) and 'id="id_iban_error"' in html(refused)
    assert not BankDetails.objects.filter(user=artist).exists()
    assert "Enter your IBAN." in html(client.post("/account/bank/", {"iban": "", "bic": ""}))

    saved = client.post("/account/bank/", {"iban": "de89 3704 0044 0532 0130 00", "bic": ""})
    assert saved.status_code == 302
    page = html(client.get("/account/bank/"))
    assert "•••• 3000" in page and "•••• FXXX" in page
    assert not any(s in page for s in SECRETS) and 'value="DE89' not in page

    wrong_country = client.post("/account/bank/", {"iban": "", "bic": "ABNANL2A"})
    assert "of a bank in NL" in html(wrong_country)
    assert client.post("/account/bank/remove/").status_code == 302
    assert not BankDetails.objects.filter(user=artist).exists()
    assert client.get("/account/bank/remove/").status_code == 405


def test_the_paying_account_on_the_settings_page(client_for, euro, euro_staff):
    client = client_for(euro_staff["manager"])
    form = {
        "name": euro.name,
        "description": "",
        "status": "active",
        "approval_threshold": "",
        "review_within_days": 14,
        "pay_within_days": 30,
        "dispute_window_days": 30,
        "payer_name": "Studio",
        "payer_iban": "DE00 1234",
        "payer_bic": "",
    }
    refused = client.post(f"/programs/{euro.pk}/settings/", form)
    assert refused.status_code == 200 and 'id="id_payer_iban_error"' in html(refused)
    saved = client.post(f"/programs/{euro.pk}/settings/", form | {"payer_iban": PAYER})
    assert saved.status_code == 302, html(saved)[:2000]
    assert PayerAccount.objects.get(program=euro).bic == "BYLADEM1001"
    page = html(client.get(f"/programs/{euro.pk}/settings/"))
    assert "•••• 2051" in page and "Paying account" in page
    assert not any(s in page for s in SECRETS)
    # Saved again with the IBAN left empty: kept as it was.
    kept = client.post(f"/programs/{euro.pk}/settings/", form | {"payer_iban": ""})
    assert kept.status_code == 302
    assert PayerAccount.objects.get(program=euro).iban == PAYER
    removed = form | {"payer_iban": "", "payer_remove": "on"}
    assert client.post(f"/programs/{euro.pk}/settings/", removed).status_code == 302
    assert not PayerAccount.objects.filter(program=euro).exists()


def batch(program, fmt="pain.001"):
    return f"/payouts/batch.csv?program={program.pk}&paid_on={TODAY}&format={fmt}"


def test_the_batch_page_gives_treasurers_the_file_and_lists_who_lacks_details(
    client_for, admin, euro, euro_staff, artist, artist2
):
    services.update_program(actor=admin, program=euro, payer_name="Studio", payer_iban=PAYER)
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    for member in (artist, artist2):
        services.record_payout(
            actor=admin, artist=member, program=euro, amount_minor=1500, kind="grant"
        )
    client = client_for(euro_staff["treasurer"])
    assert 'value="pain.001"' in html(client.get("/payouts/batch.csv"))
    refused = client.get(batch(euro))
    assert refused.status_code == 409
    page = html(refused)
    assert f"{artist2} (id {artist2.pk}) has no IBAN on file" in page
    assert "•••• 3000" in page and "Missing" in page
    assert not any(s in page for s in SECRETS)

    services.set_bank_details(actor=artist2, user=artist2, iban="NL91ABNA0417164300")
    response = client.get(batch(euro))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    assert xmlschema_errors(response.content) == []
    assert read(response.content)["control_sum"] == 3000

    for who in ("manager", "reviewer", "auditor"):
        page = client_for(euro_staff[who]).get(batch(euro))
        assert page.status_code == 200 and "treasurer" in html(page)
        assert not page["Content-Type"].startswith("application/xml")
        csv = client_for(euro_staff[who]).get(batch(euro, "csv"))
        assert not any(s in b"".join(csv.streaming_content).decode() for s in SECRETS)
    dollars = make_program(admin, currency="USD")
    page = html(client_for(admin).get(batch(dollars)))
    assert "EUR only" in page and 'id="id_format_error"' in page


def test_no_other_page_shows_banking_details(client_for, admin, euro, euro_staff, artist, artist2):
    services.update_program(actor=admin, program=euro, payer_name="Studio", payer_iban=PAYER)
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    payout = services.record_payout(
        actor=admin, artist=artist, program=euro, amount_minor=1500, kind="grant"
    )
    paths = [
        f"/programs/{euro.pk}/",
        f"/programs/{euro.pk}/statement/?artist={artist.pk}",
        "/payouts/",
        f"/payouts/{payout.pk}/",
        f"/programs/{euro.pk}/staff/",
    ]
    for user in (*euro_staff.values(), admin):
        client = client_for(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (user, path)
            assert not any(s in html(response) for s in SECRETS), (user, path)
            assert "•••• 3000" not in html(response), (user, path)
    other = client_for(artist2).get("/account/bank/")
    assert "•••• 3000" not in html(other)  # only one's own


def test_the_admin_site_shows_no_banking_details(client_for, admin, euro, artist):
    services.update_program(actor=admin, program=euro, payer_name="Studio", payer_iban=PAYER)
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    admin.is_staff = True  # the admin site's own gate
    admin.save(update_fields=["is_staff"])
    client = client_for(admin)
    index = client.get("/admin/")
    assert index.status_code == 200 and "Users" in html(index)
    assert "Bank details" not in html(index) and "Payer account" not in html(index)
    for path in (
        f"/admin/accounts/user/{artist.pk}/change/",
        f"/admin/ledger/program/{euro.pk}/change/",
        "/admin/ledger/auditevent/",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), path  # 404: a model not in the admin
        assert not any(s in html(response) for s in SECRETS), path
    assert client.get("/admin/accounts/bankdetails/").status_code == 404
