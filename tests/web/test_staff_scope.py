"""Staff pages answer only for the programs the user holds a role in: another program's
journal, outstanding list, payout batch, payout void and program forms are a 404, and a
member without a role there is refused (403) even when it is staff elsewhere."""

import pytest

from ledger import services
from tests.conftest import make_program
from tests.factories import UserFactory


@pytest.fixture
def two_programs(admin):
    mine = make_program(admin, currency="USD")
    theirs = make_program(admin, currency="EUR")
    treasurer = UserFactory(username="t-of-mine")
    services.grant_role(actor=admin, program=mine, user=treasurer, role="treasurer")
    artist = UserFactory(username="member-of-theirs")
    services.enroll_artist(actor=admin, program=theirs, artist=artist)
    payout = services.record_payout(
        actor=admin, artist=artist, program=theirs, amount_minor=500, kind="grant"
    )
    return mine, theirs, treasurer, payout


def test_another_programs_books_are_404_to_staff_of_one(client, two_programs):
    mine, theirs, treasurer, payout = two_programs
    client.force_login(treasurer)
    assert client.get(f"/programs/{mine.pk}/journal.hledger").status_code == 200
    for url in (
        f"/programs/{theirs.pk}/journal.hledger",
        f"/programs/{theirs.pk}/outstanding.csv",
        f"/payouts/{payout.pk}/void/",
    ):
        assert client.get(url).status_code == 404, url
    batch = client.get("/payouts/batch.csv", {"program": theirs.pk, "paid_on": str(payout.paid_on)})
    assert batch.status_code == 200 and b"Select a valid choice" in batch.content


def test_staff_elsewhere_who_is_a_member_cannot_read_the_books(admin, client, two_programs):
    _mine, theirs, treasurer, _payout = two_programs
    services.enroll_artist(actor=admin, program=theirs, artist=treasurer)
    client.force_login(treasurer)
    assert client.get(f"/programs/{theirs.pk}/journal.hledger").status_code == 403
    assert client.get(f"/programs/{theirs.pk}/outstanding.csv").status_code == 403
