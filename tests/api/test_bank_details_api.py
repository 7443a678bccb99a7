"""Banking details over the API: set through /me/preferences/, shown back masked, the paying
account a manager's setting, and the pain.001 batch for the program's treasurers only."""

from ledger import services
from ledger.models import AuditEvent
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import DE, PAYER, SECRETS, TODAY, make_program
from tests.exports.sepa_tools import read, xmlschema_errors
from tests.factories import UserFactory


def test_preferences_take_iban_and_bic_and_show_them_masked(artist):
    api = client_for(artist)
    assert api.get("/api/v1/me/preferences/").json() == {
        "email_notifications": True,
        "iban": None,
        "bic": None,
    }
    response = api.patch("/api/v1/me/preferences/", {"iban": "de89 3704 0044 0532 0130 00"})
    assert response.status_code == 200, response.content
    assert response.json() == {"email_notifications": True, "iban": "•••• 3000", "bic": "•••• FXXX"}
    assert api.get("/api/v1/me/preferences/").json()["iban"] == "•••• 3000"
    assert not any(s in response.content.decode() for s in SECRETS)

    bad = problem(api.patch("/api/v1/me/preferences/", {"iban": "DE89370400440532013001"}), 400)
    assert fields_of(bad) == {"iban"} and "check digits" in bad["errors"][0]["message"]
    bad = problem(api.patch("/api/v1/me/preferences/", {"bic": "ABNANL2A"}), 400)
    assert fields_of(bad) == {"bic"} and "NL" in bad["errors"][0]["message"]
    bad = problem(api.patch("/api/v1/me/preferences/", {"iban": 12}), 400)
    assert fields_of(bad) == {"iban"}

    cleared = api.patch("/api/v1/me/preferences/", {"iban": ""}).json()
    assert (cleared["iban"], cleared["bic"]) == (None, None)
    assert [e.data["iban"] for e in AuditEvent.objects.filter(action="user.bank_details")] == [
        "set",
        "cleared",
    ]


def test_the_paying_account_is_set_by_managers_and_read_by_treasurers(euro, euro_staff, artist):
    manager = client_for(euro_staff["manager"])
    response = manager.patch(
        f"/api/v1/programs/{euro.pk}/", {"payer_name": "Studio", "payer_iban": PAYER}
    )
    assert response.status_code == 200, response.content
    shown = {"name": "Studio", "iban": "•••• 2051", "bic": "BYLADEM1001"}
    assert response.json()["payer_account"] == shown
    for who in ("manager", "treasurer"):
        assert (
            client_for(euro_staff[who]).get(f"/api/v1/programs/{euro.pk}/").json()["payer_account"]
            == shown
        )
    for user in (euro_staff["reviewer"], euro_staff["auditor"], artist):
        api = client_for(user)
        assert api.get(f"/api/v1/programs/{euro.pk}/").json()["payer_account"] is None
        listed = {p["id"]: p for p in api.get("/api/v1/programs/").json()["results"]}
        assert listed[euro.pk]["payer_account"] is None
    bad = problem(manager.patch(f"/api/v1/programs/{euro.pk}/", {"payer_iban": "DE00"}), 400)
    assert fields_of(bad) == {"payer_iban"}
    problem(
        client_for(euro_staff["treasurer"]).patch(
            f"/api/v1/programs/{euro.pk}/", {"payer_iban": PAYER}
        ),
        403,
    )


def batch_url(program, fmt="pain.001"):
    return f"/api/v1/exports/payout-batch/?program={program.pk}&paid_on={TODAY}&format={fmt}"


def test_a_treasurer_downloads_the_batch_as_a_valid_pain001(
    euro, euro_staff, admin, artist, artist2
):
    services.update_program(actor=admin, program=euro, payer_name="Studio", payer_iban=PAYER)
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    services.set_bank_details(actor=artist2, user=artist2, iban="NL91ABNA0417164300")
    for member, amount in ((artist, 2500), (artist2, 1000), (artist, 125)):
        services.record_payout(
            actor=euro_staff["treasurer"], artist=member, program=euro, amount_minor=amount,
            kind="grant", paid_on=TODAY,
        )  # fmt: skip
    response = client_for(euro_staff["treasurer"]).get(batch_url(euro))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="payouts-p{euro.pk}-{TODAY:%Y%m%d}.pain.001.xml"'
    )
    assert xmlschema_errors(response.content) == []
    doc = read(response.content)
    assert (doc["count"], doc["control_sum"]) == (2, 3625)
    assert {t["iban"]: t["cents"] for t in doc["transfers"]} == {
        DE: 2625,
        "NL91ABNA0417164300": 1000,
    }
    csv = client_for(euro_staff["auditor"]).get(batch_url(euro, "csv"))
    text = b"".join(csv.streaming_content).decode()
    assert csv.status_code == 200 and "Artist1" in text
    assert not any(s in text for s in SECRETS)
    for who in ("manager", "reviewer", "auditor"):  # they may read the CSV, not the IBANs
        body = problem(client_for(euro_staff[who]).get(batch_url(euro)), 403, "permission_denied")
        assert "treasurer" in body["detail"]
    problem(client_for(artist).get(batch_url(euro)), 403)
    assert AuditEvent.objects.filter(action="payout.payment_file").count() == 1


def test_a_batch_with_artists_missing_details_is_a_409_naming_each(
    euro, euro_staff, admin, artist2
):
    third = UserFactory(username="artist3", display_name="Ines")
    services.enroll_artist(actor=admin, program=euro, artist=third)
    for member in (artist2, third):
        services.record_payout(
            actor=admin, artist=member, program=euro, amount_minor=100, kind="grant"
        )
    body = problem(
        client_for(euro_staff["treasurer"]).get(batch_url(euro)), 409, "missing_bank_details"
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("payer_account", "missing_bank_details"),
        ("artist", "missing_bank_details"),
        ("artist", "missing_bank_details"),
    ]
    assert f"Ines (id {third.pk}) has no IBAN on file" in body["errors"][2]["message"]
    assert f"(id {artist2.pk})" in body["errors"][1]["message"]


def test_pain001_needs_euros_and_payouts(db, admin, euro):
    problem(client_for(admin).get(batch_url(euro)), 409, "empty_batch")
    dollars = make_program(admin, currency="USD")
    body = problem(client_for(admin).get(batch_url(dollars)), 400, "validation_error")
    assert fields_of(body) == {"format"} and "EUR" in body["detail"]
    body = problem(client_for(admin).get(batch_url(euro, "xml")), 400)
    assert fields_of(body) == {"format"}
    # The CSV of an empty batch is still its header alone, as before.
    csv = client_for(admin).get(batch_url(euro, "csv"))
    assert csv.status_code == 200
    assert (
        b"".join(csv.streaming_content).decode().strip() == "name,email,amount,currency,reference"
    )
