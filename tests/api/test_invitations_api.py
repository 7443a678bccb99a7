"""POST/GET /programs/{id}/invitations/ and .../{id}/revoke/: the contract's shapes, who may
call them, errors naming fields."""

import datetime as dt

import pytest
from django.utils.dateparse import parse_datetime

from ledger import clock, services
from ledger.models import AuditEvent, Invitation
from tests.conftest import make_program
from tests.factories import UserFactory

from .conftest import client_for, fields_of, problem

pytestmark = pytest.mark.django_db

CONTRACT = {"id", "email", "program", "role", "status", "expires_at", "created_at"}


def url(program, *rest):
    return f"/api/v1/programs/{program.pk}/invitations/" + "".join(f"{part}/" for part in rest)


@pytest.fixture
def staff(admin, program):
    """A manager and an auditor of `program` (not operators), with API clients."""
    people = {}
    for role in ("manager", "auditor"):
        person = UserFactory(username=f"{role}1")
        services.grant_role(actor=admin, program=program, user=person, role=role)
        people[role] = client_for(person)
    return people


def test_invite_answers_the_contract_and_mails(
    staff, program, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff["manager"].post(
            url(program), {"email": "Nia@Example.ORG", "display_name": "Nia"}, format="json"
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= CONTRACT
    assert body["program"] == program.pk
    assert (body["email"], body["role"], body["status"]) == ("Nia@example.org", None, "pending")
    assert parse_datetime(body["expires_at"]) - parse_datetime(body["created_at"]) == (
        dt.timedelta(days=14)
    )
    assert "token" not in str(body).lower() and "secret" not in str(body).lower()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["Nia@example.org"]

    staff_response = staff["manager"].post(
        url(program), {"email": "t@example.org", "role": "treasurer"}, format="json"
    )
    assert staff_response.json()["role"] == "treasurer"


def test_errors_name_the_field(staff, program):
    client = staff["manager"]
    body = problem(client.post(url(program), {}, format="json"), 400, "validation_error")
    assert fields_of(body) == {"email"}
    body = problem(
        client.post(url(program), {"email": "nope", "role": "owner"}, format="json"),
        400,
        "validation_error",
    )
    assert fields_of(body) == {"email", "role"}
    body = problem(
        client.post(url(program), {"email": 5, "display_name": "x" * 201}, format="json"), 400
    )
    assert fields_of(body) == {"email", "display_name"}
    assert not Invitation.objects.exists()


def test_who_may_invite_and_list(admin, staff, program, artist):
    other = make_program(admin, currency="EUR")
    stranger = UserFactory(username="other-manager")
    services.grant_role(actor=admin, program=other, user=stranger, role="manager")
    services.invite(actor=admin, program=program, email="a@example.org")
    body = {"email": "b@example.org"}

    # An auditor reads the list but may not invite; a member who is not staff gets 403 for
    # both; staff of another program, and anyone outside, 404.
    listed = staff["auditor"].get(url(program)).json()
    assert [row["email"] for row in listed["results"]] == ["a@example.org"]
    problem(staff["auditor"].post(url(program), body, format="json"), 403, "permission_denied")
    member = client_for(artist)
    problem(member.get(url(program)), 403, "permission_denied")
    problem(member.post(url(program), body, format="json"), 403, "permission_denied")
    outsider = client_for(stranger)
    problem(outsider.get(url(program)), 404, "not_found")
    problem(outsider.post(url(program), body, format="json"), 404, "not_found")
    assert outsider.get(url(other)).json()["results"] == []
    assert Invitation.objects.count() == 1


def test_revoke(admin, staff, program, artist):
    invitation = services.invite(actor=admin, program=program, email="a@example.org")
    revoke = url(program, invitation.pk, "revoke")
    problem(staff["auditor"].post(revoke, format="json"), 403, "permission_denied")
    problem(client_for(artist).post(revoke, format="json"), 403, "permission_denied")
    response = staff["manager"].post(revoke, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert Invitation.objects.get().status == "revoked"
    assert AuditEvent.objects.filter(action="invitation.revoke").count() == 1
    problem(staff["manager"].post(revoke, format="json"), 409, "invalid_transition")

    # An invitation of another program through this program's path: 404.
    other = make_program(admin, currency="EUR")
    elsewhere = services.invite(actor=admin, program=other, email="c@example.org")
    problem(
        staff["manager"].post(url(program, elsewhere.pk, "revoke"), format="json"),
        404,
        "not_found",
    )


def test_expired_shows_as_expired_and_cannot_be_revoked(staff, admin, program):
    invitation = services.invite(actor=admin, program=program, email="a@example.org")
    with clock.frozen(invitation.expires_at + dt.timedelta(seconds=1)):
        row = staff["manager"].get(url(program)).json()["results"][0]
        assert row["status"] == "expired"
        problem(
            staff["manager"].post(url(program, invitation.pk, "revoke"), format="json"),
            409,
            "invalid_transition",
        )


def test_accepted_invitation_is_listed_as_accepted(staff, admin, program):
    invitation = services.invite(actor=admin, program=program, email="a@example.org")
    person = UserFactory(username="joiner")
    services.accept_invitation(token=invitation.secret, user=person)
    row = staff["manager"].get(url(program)).json()["results"][0]
    assert (row["status"], row["accepted_by"]) == ("accepted", person.pk)


def test_list_query_budget(staff, admin, program, django_assert_max_num_queries):
    for i in range(3):
        services.invite(actor=admin, program=program, email=f"a{i}@example.org")
    with django_assert_max_num_queries(8):
        small = staff["manager"].get(url(program) + "?page_size=100")
    for i in range(10):
        services.invite(actor=admin, program=program, email=f"b{i}@example.org")
    with django_assert_max_num_queries(8):
        big = staff["manager"].get(url(program) + "?page_size=100")
    assert len(big.json()["results"]) == 13 > len(small.json()["results"])


def test_idempotent_invite_sends_once(
    staff, program, mailoutbox, django_capture_on_commit_callbacks
):
    headers = {"HTTP_IDEMPOTENCY_KEY": "invite-1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = staff["manager"].post(
            url(program), {"email": "a@example.org"}, format="json", **headers
        )
        again = staff["manager"].post(
            url(program), {"email": "a@example.org"}, format="json", **headers
        )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert Invitation.objects.count() == 1 and len(mailoutbox) == 1
