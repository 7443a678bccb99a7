"""Statements on the page and as CSV."""

import datetime as dt

import pytest

from ledger import services
from tests.conftest import TODAY, accepted_work, make_program
from tests.factories import UserFactory

from .pages import field_error

pytestmark = pytest.mark.django_db


def test_statement_with_running_balance_and_period(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    services.record_payout(
        actor=admin,
        artist=artist,
        program=program,
        amount_minor=5000,
        kind="settlement",
    )
    client = client_for(artist)
    html = client.get(f"/programs/{program.pk}/statement/").content.decode()
    assert "$90.00" in html and "-$50.00" in html and "$40.00" in html
    assert "Accepted work" in html and "Payout" in html
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    html = client.get(
        f"/programs/{program.pk}/statement/", {"date_from": tomorrow}
    ).content.decode()
    assert "No entries in this period" in html
    assert "$40.00" in html  # opening balance carries the earlier lines


def test_statement_period_error_beside_field(client_for, artist, program):
    response = client_for(artist).get(
        f"/programs/{program.pk}/statement/",
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
    )
    assert "before its start" in field_error(response, "date_to")


def test_statement_csv(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    response = client_for(artist).get(f"/programs/{program.pk}/statement.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("date,kind,description,amount,balance")
    assert ",90.00,90.00,USD," in lines[1]


def test_statement_visibility(client_for, admin, artist, artist2, program):
    other = make_program(admin, currency="EUR")
    client = client_for(artist)
    assert client.get(f"/programs/{other.pk}/statement/").status_code == 404
    assert client.get(f"/programs/{other.pk}/statement.csv").status_code == 404
    accepted_work(program, artist2, admin, hours="3.00")
    # An artist naming another artist still gets its own statement.
    html = client.get(f"/programs/{program.pk}/statement/?artist={artist2.pk}").content.decode()
    assert "$135.00" not in html


def test_admin_statement_picks_a_member(
    client_for, admin, artist, program, django_assert_max_num_queries
):
    accepted_work(program, artist, admin, hours="3.00")
    client = client_for(admin)
    html = client.get(f"/programs/{program.pk}/statement/").content.decode()
    assert "Choose an artist" in html
    with django_assert_max_num_queries(10):
        html = client.get(f"/programs/{program.pk}/statement/?artist={artist.pk}").content.decode()
    assert "$135.00" in html
    outsider = UserFactory(username="outsider")
    response = client.get(f"/programs/{program.pk}/statement/?artist={outsider.pk}")
    assert response.status_code == 404
