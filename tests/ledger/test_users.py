"""Logins and API tokens change through services that write an audit row, from every interface:
the API, the pages, the Django admin and seed_demo."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken, User
from ledger import services
from ledger.errors import NotAllowed, ValidationFailed
from ledger.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-42"


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_create_user_writes_the_login_and_its_audit_row_together(admin):
    user = services.create_user(
        actor=admin, username="ada", email="Ada@EXAMPLE.org", password=PASSWORD
    )
    assert user.check_password(PASSWORD) and user.email == "Ada@example.org"
    (event,) = events("user.create")
    assert (event.actor_id, event.object_type, event.object_id) == (admin.pk, "user", str(user.pk))
    assert event.data == {"username": "ada", "is_staff": False, "is_superuser": False}


def test_create_user_refuses_an_artist_and_a_taken_name_writing_nothing(admin, artist):
    with pytest.raises(NotAllowed):
        services.create_user(actor=artist, username="x", password=PASSWORD)
    with pytest.raises(ValidationFailed) as taken:
        services.create_user(actor=admin, username=artist.username)
    assert taken.value.field == "username"
    assert not User.objects.filter(username="x").exists()
    assert events("user.create") == []


def test_api_artist_creation_is_audited(admin):
    client = APIClient()
    client.force_authenticate(admin)
    body = {"username": "bea", "email": "bea@example.org", "password": PASSWORD}
    response = client.post("/api/v1/artists/", body, format="json")
    assert response.status_code == 201, response.content
    (event,) = events("user.create")
    assert (event.actor_id, event.object_id) == (admin.pk, str(response.json()["id"]))
    assert User.objects.get(username="bea").check_password(PASSWORD)


def test_api_token_revocation_is_audited(artist):
    token, secret = tokens.issue_token(user=artist, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.delete(f"/api/v1/auth/tokens/{token.pk}/").status_code == 204
    (event,) = events("token.revoke")
    assert (event.actor_id, event.object_type, event.object_id) == (
        artist.pk,
        "apitoken",
        str(token.pk),
    )
    assert ApiToken.objects.get(pk=token.pk).revoked


def test_page_token_revocation_is_audited_and_others_tokens_are_not_revocable(client, artist):
    other = UserFactory(username="someone")
    theirs, _ = tokens.issue_token(user=other, name="theirs")
    mine, _ = tokens.issue_token(user=artist, name="mine")
    client.force_login(artist)
    assert client.post(f"/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/tokens/{mine.pk}/revoke/").status_code == 302
    (event,) = events("token.revoke")
    assert (event.actor_id, event.object_id, event.data) == (
        artist.pk,
        str(mine.pk),
        {"user": artist.pk},
    )
    # A second revoke finds no live token: false, and no second row.
    assert services.revoke_token(actor=artist, token_id=mine.pk) is False
    with pytest.raises(NotAllowed):
        services.revoke_token(actor=artist, token_id=theirs.pk, owner=other)
    assert len(events("token.revoke")) == 1


def test_django_admin_creates_users_and_revokes_tokens_through_the_services(client):
    operator = UserFactory(username="op", is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "cleo",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
            "display_name": "",
            "role": "artist",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    cleo = User.objects.get(username="cleo")
    assert cleo.check_password(PASSWORD) and cleo.display_name == "cleo"
    (created,) = events("user.create")
    assert (created.actor_id, created.object_id) == (operator.pk, str(cleo.pk))

    token, _ = tokens.issue_token(user=cleo, name="laptop")
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    (revoked,) = events("token.revoke")
    assert (revoked.actor_id, revoked.object_id) == (operator.pk, str(token.pk))
    assert ApiToken.objects.get(pk=token.pk).revoked


def test_seed_demo_audits_every_login_it_creates():
    call_command("seed_demo", stdout=None)
    created = events("user.create")
    assert len(created) == User.objects.count() == 24
    assert created[0].actor_id is None  # the first admin: created by the command itself
    demo_admin = int(created[0].object_id)
    assert {e.actor_id for e in created[1:]} == {demo_admin}
