"""Who sees what has one home (`ledger.access`); both interfaces ask it and so agree."""

import pytest
from django.test import Client

from ledger import access, queries, services
from ledger.models import Contribution, Membership, Payout, Program
from tests.api.conftest import client_for
from tests.conftest import accepted_work, make_program
from tests.factories import UserFactory


def _readers(admin, member):
    return {
        "anonymous": None,
        "signed-in non-member": UserFactory(username="passerby"),
        "member": member,
        "staff": admin,
    }


def _api_sees_figures(user, program):
    body = client_for(user).get(f"/api/v1/programs/{program.pk}/report/").json()
    return not body["withheld"]


def _page_sees_figures(user, program):
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(f"/programs/{program.pk}/transparency/")
    assert response.status_code == 200
    return "Figures are withheld" not in response.content.decode()


@pytest.mark.django_db
def test_report_withholding_agrees_on_api_and_page_for_every_reader(admin, settings):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 5
    public = make_program(admin, public=True)
    members = [UserFactory() for _ in range(5)]
    for artist in members:
        services.enroll_artist(actor=admin, program=public, artist=artist)
    for artist in members[:4]:
        accepted_work(public, artist, admin)
    readers = _readers(admin, members[0])
    expected = {"anonymous": False, "signed-in non-member": False, "member": True, "staff": True}
    for name, user in readers.items():
        seen = (_api_sees_figures(user, public), _page_sees_figures(user, public))
        assert seen == (expected[name], expected[name]), name
    accepted_work(public, members[4], admin)  # five contributors: nobody is withheld from
    for name, user in readers.items():
        assert (_api_sees_figures(user, public), _page_sees_figures(user, public)) == (
            True,
            True,
        ), name


@pytest.mark.django_db
def test_scope_as_sql_selects_what_the_querysets_select(admin, artist, artist2, program):
    """The plain-SQL lists and the named QuerySet methods render one scope: same rows."""
    other = make_program(admin, currency="EUR")
    services.enroll_artist(actor=admin, program=other, artist=artist2)
    accepted_work(program, artist, admin)
    accepted_work(other, artist2, admin)
    for user in (admin, artist, artist2):
        by_orm = set(Membership.objects.visible_to(user).values_list("program", "artist"))
        rows = queries.balance_rows(user)[0:1000]
        assert {(r["program"], r["artist"]) for r in rows} == by_orm, user
        by_orm = set(Contribution.objects.visible_to(user).values_list("pk", flat=True))
        rows = queries.contribution_rows(user)[0:1000]
        assert {r["id"] for r in rows} == by_orm, user
    assert set(Program.objects.visible_to(artist2)) == {program, other}
    assert set(Program.objects.visible_to(artist)) == {program}


@pytest.mark.django_db
def test_anonymous_scope_sees_nothing(admin, artist, program):
    from django.contrib.auth.models import AnonymousUser

    accepted_work(program, artist, admin)
    nobody = AnonymousUser()
    assert access.scope_of(nobody) == access.NOTHING
    for model in (Program, Membership, Contribution, Payout):
        assert not model.objects.visible_to(nobody).exists()
    assert queries.balance_rows(nobody)[0:10] == []
    assert queries.contribution_rows(nobody)[0:10] == []
    assert not queries.visible_entries(nobody).exists()
