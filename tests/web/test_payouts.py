"""The payouts page, paying and voiding."""

import pytest

from ledger import services
from ledger.models import Membership, Payout
from tests.conftest import accepted_work
from tests.factories import UserFactory

from .pages import confirmation_of, field_error, pay

pytestmark = pytest.mark.django_db


def test_payouts_page_lists_balances(
    client_for, admin, artist, artist2, program, django_assert_max_num_queries
):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    with django_assert_max_num_queries(10):
        response = client.get("/payouts/")
    html = response.content.decode()
    assert "$90.00" in html
    assert str(artist) in html and str(artist2) in html
    html = client.get("/payouts/?owed=1").content.decode()
    assert str(artist) in html and f">{artist2}<" not in html


def test_pay_a_settlement_with_confirmation(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    response = pay(client, program, artist, "60")
    assert response.status_code == 200
    assert b"Confirm and record" in response.content
    assert b"$60.00" in response.content
    assert not Payout.objects.exists()  # the first step writes nothing
    token = confirmation_of(response)
    response = pay(client, program, artist, "60", confirm="1", confirmation=token)
    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.kind, payout.amount_minor) == ("settlement", 6000)
    assert Membership.objects.get(program=program, artist=artist).outstanding_minor == 3000


def test_over_settlement_shows_the_error_and_writes_nothing(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    for extra in ({}, {"confirm": "1"}):
        response = pay(client, program, artist, "90.01", **extra)
        assert response.status_code == 200
        message = field_error(response, "amount")
        assert "$90.01 exceeds the $90.00 outstanding" in message
    assert not Payout.objects.exists()
    assert Membership.objects.get(program=program, artist=artist).outstanding_minor == 9000


def test_a_grant_may_exceed_what_is_owed(client_for, admin, artist, program):
    client = client_for(admin)
    token = confirmation_of(pay(client, program, artist, "500", kind="grant"))
    response = pay(client, program, artist, "500", kind="grant", confirm="1", confirmation=token)
    assert response.status_code == 302
    assert Payout.objects.get().amount_minor == 50000


@pytest.mark.parametrize(
    ("amount", "message"),
    [("12.345", "2 decimal"), ("-5", "positive"), ("0", "greater than zero"), ("1e3", "plain")],
)
def test_pay_bad_amount_beside_field(client_for, admin, artist, program, amount, message):
    response = pay(client_for(admin), program, artist, amount, confirm="1")
    assert response.status_code == 200
    assert message in field_error(response, "amount")
    assert not Payout.objects.exists()


def test_pay_non_member(client_for, admin, program):
    outsider = UserFactory(username="outsider")
    response = pay(client_for(admin), program, outsider, "5", kind="grant")
    assert "not a member" in field_error(response, "artist")
    assert not Payout.objects.exists()


def test_pay_change_step_returns_to_the_form(client_for, admin, artist, program):
    response = pay(client_for(admin), program, artist, "5", kind="grant", edit="1")
    assert b"Review payment" in response.content
    assert not Payout.objects.exists()


def test_void_a_payout(client_for, admin, artist, program):
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="grant"
    )
    client = client_for(admin)
    assert client.get(f"/payouts/{payout.pk}/void/").status_code == 200
    response = client.post(f"/payouts/{payout.pk}/void/", {"reason": ""})
    assert response.status_code == 200
    assert "reason is required" in field_error(response, "reason")
    payout.refresh_from_db()
    assert payout.status == "paid"
    response = client.post(f"/payouts/{payout.pk}/void/", {"reason": "Sent twice"})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.void_reason) == ("void", "Sent twice")
    response = client.get(f"/payouts/{payout.pk}/void/")
    assert b"was voided" in response.content
