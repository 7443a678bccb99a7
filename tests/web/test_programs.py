"""Programs, rate cards and members."""

import pytest

from ledger import services
from ledger.models import Membership, Program, RateCard
from tests.conftest import TODAY, make_program
from tests.factories import UserFactory

from .pages import field_error

pytestmark = pytest.mark.django_db


def test_program_list_per_role(client_for, admin, artist, program, django_assert_max_num_queries):
    other = make_program(admin, currency="EUR")
    client = client_for(artist)
    # Session, user, roles, the programs, and the two reads of Django's permissions (anyone
    # may hold the permission to add programs, so the page asks).
    with django_assert_max_num_queries(7):
        html = client.get("/programs/").content.decode()
    assert program.name in html and other.name not in html
    html = client_for(admin).get("/programs/").content.decode()
    assert other.name in html


def test_program_detail_visibility(client_for, admin, artist, program):
    other = make_program(admin, currency="EUR")
    client = client_for(artist)
    assert client.get(f"/programs/{other.pk}/").status_code == 404
    html = client.get(f"/programs/{program.pk}/").content.decode()
    assert "$45.00" in html and "Publish a rate card" not in html


def test_create_program(client_for, admin):
    client = client_for(admin)
    response = client.post("/programs/new/", {"name": "  ", "currency": "XXX"})
    assert response.status_code == 200
    assert "required" in field_error(response, "name")
    assert "valid choice" in field_error(response, "currency")
    response = client.post("/programs/new/", {"name": "Nimbus", "currency": "JPY", "public": "on"})
    program = Program.objects.get(name="Nimbus")
    assert response.status_code == 302
    assert (program.currency, program.public, program.created_by) == ("JPY", True, admin)


def rate_card_data(day, **overrides):
    return {
        "effective_from": day.isoformat(),
        "hourly_rate": "50",
        "bounty_low": "10",
        "bounty_medium": "50.5",
        "bounty_high": "200",
        "bounty_critical": "0",
    } | overrides


def test_add_rate_card(client_for, admin, program):
    response = client_for(admin).post(f"/programs/{program.pk}/rate-cards/", rate_card_data(TODAY))
    assert response.status_code == 302
    card = RateCard.objects.get(program=program, effective_from=TODAY)
    assert (card.hourly_rate_minor, card.bounty_medium_minor, card.bounty_critical_minor) == (
        5000,
        5050,
        0,
    )


def test_add_rate_card_errors_beside_fields(client_for, admin, program):
    client = client_for(admin)
    response = client.post(
        f"/programs/{program.pk}/rate-cards/", rate_card_data(TODAY, bounty_high="2.001")
    )
    assert response.status_code == 200
    assert "2 decimal" in field_error(response, "bounty_high")
    existing = program.rate_cards.get().effective_from
    response = client.post(f"/programs/{program.pk}/rate-cards/", rate_card_data(existing))
    assert response.status_code == 200
    assert "already exists" in field_error(response, "effective_from")
    assert program.rate_cards.count() == 1


def test_enroll_a_member(client_for, admin, program):
    newcomer = UserFactory(username="newcomer")
    client = client_for(admin)
    response = client.post(f"/programs/{program.pk}/members/", {"artist": newcomer.pk})
    assert response.status_code == 302
    assert Membership.objects.filter(program=program, artist=newcomer).exists()
    response = client.post(f"/programs/{program.pk}/members/", {"artist": newcomer.pk})
    assert response.status_code == 200
    assert "valid choice" in field_error(response, "artist")


def test_program_detail_admin_query_count(
    client_for, admin, program, django_assert_max_num_queries
):
    for n in range(10):
        services.enroll_artist(
            actor=admin, program=program, artist=UserFactory(username=f"member{n}")
        )
    client = client_for(admin)
    with django_assert_max_num_queries(12):
        assert client.get(f"/programs/{program.pk}/").status_code == 200
