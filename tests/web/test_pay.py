"""The pay page: review writes nothing, a confirm records one payout however often it is sent,
and the page shows what is owed before the amount and after the payment."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.api.models import IdempotencyKey
from ledger.errors import InsufficientBalance
from ledger.models import AuditEvent, Membership, Payout
from tests.conftest import TODAY, accepted_work
from tests.factories import UserFactory
from tests.web.pages import confirmation_of, field_error, pay

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SAVEPOINT)\b|FOR UPDATE", re.I)


def token_of(response) -> str:
    """The review step's single-use token, or "" where a page has none (so a test of the
    repeat fails on the payouts it finds, not on a missing field)."""
    match = re.search(r'name="confirmation" value="([^"]+)"', response.content.decode())
    return match.group(1) if match else ""


def follow(client, response):
    """The page a redirect leads to (where the messages are shown)."""
    assert response.status_code == 302, response.status_code
    return client.get(response["Location"])


def owed(program, artist) -> int:
    return Membership.objects.get(program=program, artist=artist).outstanding_minor


def test_review_step_runs_no_write_statement(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00 owed
    client = client_for(admin)
    client.get("/payouts/new/")  # the session is settled before the step under test
    for amount in ("60", "90.01"):  # one that passes, one the settlement rule refuses
        with CaptureQueriesContext(connection) as queries_run:
            response = pay(client, program, artist, amount)
        assert response.status_code == 200
        writes = [
            q["sql"]
            for q in queries_run.captured_queries
            if WRITE.search(q["sql"]) and "ledger_" in q["sql"]
        ]
        assert writes == [], writes
    assert not AuditEvent.objects.filter(action="payout.create").exists()


def test_confirming_twice_records_one_payout(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    # A grant: without the guard, the repeat would be recorded too (a settlement repeat
    # would be refused by the balance, hiding the missing guard).
    token = token_of(pay(client, program, artist, "60", kind="grant"))
    first = pay(client, program, artist, "60", kind="grant", confirm="1", confirmation=token)
    again = follow(
        client, pay(client, program, artist, "60", kind="grant", confirm="1", confirmation=token)
    )
    assert first.status_code == 302
    assert again.status_code == 200  # the payouts list, not an error page
    payout = Payout.objects.get()
    assert f"already recorded (payout #{payout.pk}" in again.content.decode()
    assert "not recorded again" in again.content.decode()
    assert owed(program, artist) == 3000
    assert AuditEvent.objects.filter(action="payout.create").count() == 1


def test_each_review_issues_its_own_confirmation(client_for, admin, artist, program):
    """Two payments of the same amount, each reviewed, are two payouts (a grant paid twice
    on purpose is not a double submit)."""
    client = client_for(admin)
    for _ in range(2):
        token = confirmation_of(pay(client, program, artist, "5", kind="grant"))
        response = pay(client, program, artist, "5", kind="grant", confirm="1", confirmation=token)
        assert response.status_code == 302
    assert Payout.objects.count() == 2


@pytest.mark.parametrize("case", ["missing", "forged", "other fields", "other admin"])
def test_a_confirm_without_its_own_token_records_nothing(
    client_for, admin, admin2, artist, program, case
):
    client = client_for(admin)
    token = confirmation_of(pay(client, program, artist, "5", kind="grant"))
    extra, amount = {"confirmation": token}, "5"
    if case == "missing":
        extra = {}
    elif case == "forged":
        extra = {"confirmation": token[:-2] + ("aa" if not token.endswith("aa") else "bb")}
    elif case == "other fields":
        amount = "500"  # the hidden amount changed after review
    else:
        client = client_for(admin2)
    response = pay(client, program, artist, amount, kind="grant", confirm="1", **extra)
    # Back to the review step, with a fresh token for what was actually sent.
    assert response.status_code == 200
    assert b"Confirm and record" in response.content
    assert confirmation_of(response) != token
    assert not Payout.objects.exists()


def test_a_refused_confirm_leaves_its_token_usable(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00 owed
    client = client_for(admin)
    token = confirmation_of(pay(client, program, artist, "90"))
    # Meanwhile another settlement takes part of it: the confirm is refused under the lock.
    other = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="settlement"
    )
    response = pay(client, program, artist, "90", confirm="1", confirmation=token)
    assert response.status_code == 200
    assert "exceeds the $80.00 outstanding" in field_error(response, "amount")
    assert Payout.objects.count() == 1
    assert not IdempotencyKey.objects.exists()  # the refusal rolled the claim back
    services.void_payout(payout=other, actor=admin, reason="Sent by mistake")
    response = pay(client, program, artist, "90", confirm="1", confirmation=token)
    assert response.status_code == 302
    assert owed(program, artist) == 0


def test_the_page_shows_the_services_own_error_text(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    with pytest.raises(InsufficientBalance) as refused:
        services.preview_payout(
            actor=admin,
            artist=artist,
            program=program,
            amount_minor=9001,
            kind="settlement",
            paid_on=TODAY,
        )
    response = pay(client_for(admin), program, artist, "90.01")
    assert field_error(response, "amount") == refused.value.message


def test_the_form_shows_what_is_owed_before_an_amount(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00
    client = client_for(admin)
    html = client.get(f"/payouts/new/?program={program.pk}&artist={artist.pk}").content.decode()
    assert re.search(r'data-testid="owed-now">\s*<strong>Now:</strong> \$90\.00 owed', html)
    html = client.get("/payouts/new/").content.decode()
    assert "Choose a program and an artist" in html
    outsider = UserFactory(username="outsider")
    html = client.get(f"/payouts/new/?program={program.pk}&artist={outsider.pk}").content.decode()
    assert "Outsider is not a member" in html
    # Paid ahead is not a debt: no minus sign, the transparency page's words.
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=12000, kind="grant"
    )
    html = client.get(f"/payouts/new/?program={program.pk}&artist={artist.pk}").content.decode()
    assert "$30.00 paid ahead of valued work" in html
    assert "-$30.00" not in html
    # A form sent back with an error still shows it.
    response = pay(client, program, artist, "")
    assert "required" in field_error(response, "amount")
    assert "$30.00 paid ahead of valued work" in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "amount", "after"),
    [
        ("settlement", "60", "$30.00 owed to the artist"),
        ("settlement", "90", "Nothing owed"),
        ("grant", "100", "$10.00 paid ahead of valued work"),
    ],
)
def test_the_confirm_step_shows_the_balance_after(
    client_for, admin, artist, program, kind, amount, after
):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00
    html = pay(client_for(admin), program, artist, amount, kind=kind).content.decode()
    before_html = re.search(r'data-testid="owed-before">(.*?)</dd>', html, re.S).group(1)
    after_html = re.search(r'data-testid="owed-after">(.*?)</dd>', html, re.S).group(1)
    assert "$90.00 owed to the artist" in before_html
    assert after in after_html


def test_pay_form_fields_are_labelled_and_errors_described(client_for, admin, program):
    outsider = UserFactory(username="outsider")
    response = pay(client_for(admin), program, outsider, "abc", kind="grant", paid_on="")
    html = response.content.decode()
    for name in ("program", "artist", "amount", "paid_on", "method", "reference", "note"):
        assert f'<label for="id_{name}"' in html, name
    amount = re.search(r'<input[^>]*name="amount"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in amount
    assert 'aria-describedby="id_amount_error id_amount_helptext owed-text"' in amount
    paid_on = re.search(r'<input[^>]*name="paid_on"[^>]*>', html).group(0)
    assert 'aria-describedby="id_paid_on_error"' in paid_on  # each id once
    field_error(response, "paid_on")
    assert '<fieldset aria-describedby="id_kind_helptext">' in html  # grant or settlement
    assert 'id="id_kind_helptext"' in html
    # The membership rule, from the service's check, beside the artist.
    response = pay(client_for(admin), program, outsider, "5", kind="grant")
    select = re.search(r'<select[^>]*name="artist"[^>]*>', response.content.decode()).group(0)
    assert 'aria-describedby="id_artist_error"' in select
    assert "not a member" in field_error(response, "artist")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_record_one_payout(admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    clients = [Client() for _ in range(2)]
    for client in clients:
        client.force_login(admin)
    token = token_of(pay(clients[0], program, artist, "60", kind="grant"))
    barrier = threading.Barrier(2)
    results = [None, None]

    def confirm(i):
        try:
            barrier.wait()
            response = follow(
                clients[i],
                pay(clients[i], program, artist, "60", "grant", confirm="1", confirmation=token),
            )
            results[i] = (response.status_code, response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Payout.objects.count() == 1
    assert [status for status, _ in results] == [200, 200]
    pages = [html for _, html in results]
    assert sum("Recorded a grant" in html for html in pages) == 1
    assert sum("not recorded again" in html for html in pages) == 1
    assert owed(program, artist) == 3000
