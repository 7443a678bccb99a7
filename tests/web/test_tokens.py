"""The API tokens page, over the `accounts.tokens` interface.

Create / list / revoke are exercised for real, and the API accepts the token created here.
"""

import pytest

from accounts import tokens
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_tokens_page_needs_login(client):
    response = client.get("/tokens/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_create_shows_the_secret_once_then_list_and_revoke(client_for, artist):
    client = client_for(artist)
    response = client.post("/tokens/", {"name": "tracker sync"})
    assert response.status_code == 302  # post/redirect/get: a reload cannot make a second token
    response = client.get(response.url)
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    token = tokens.list_tokens(artist)[0]
    assert token.name == "tracker sync"
    secret = html.split('id="new-secret" value="', 1)[1].split('"', 1)[0]
    assert len(secret) > 20
    assert secret not in str(token.__dict__)  # only a hash is stored
    html = client.get("/tokens/").content.decode()
    assert "tracker sync" in html and secret not in html
    response = client.post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert tokens.list_tokens(artist) == []


def test_token_name_required_beside_field(client_for, artist):
    response = client_for(artist).post("/tokens/", {"name": ""})
    assert 'id="id_name_error"' in response.content.decode()
    assert tokens.list_tokens(artist) == []


def test_cannot_revoke_another_users_token(client_for, artist):
    other = UserFactory(username="someone")
    token, _secret = tokens.issue_token(user=other, name="theirs")
    assert client_for(artist).post(f"/tokens/{token.pk}/revoke/").status_code == 404
    assert tokens.list_tokens(other) == [token]
