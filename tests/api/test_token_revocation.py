"""A token does not outlive its owner's password, and an owner can revoke all at once; token
secrets and statements are never kept by a cache (Cache-Control: no-store)."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from accounts import tokens
from tests.api.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def works(secret) -> bool:
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code in (200, 401)
    return response.status_code == 200


def test_changing_the_password_on_the_page_revokes_every_token(client, artist, artist2):
    mine = [tokens.issue_token(user=artist, name=n)[1] for n in ("a", "b")]
    theirs = tokens.issue_token(user=artist2)[1]
    assert all(works(secret) for secret in mine)
    client.force_login(artist)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-and-long-passphrase-9",
            "new_password2": "a-new-and-long-passphrase-9",
        },
    )
    assert response.status_code == 302, response.content
    assert not any(works(secret) for secret in mine)
    assert works(theirs)  # only the owner's tokens


def test_any_saved_password_change_revokes_but_other_saves_do_not(artist):
    _, secret = tokens.issue_token(user=artist)
    artist.display_name = "Renamed"
    artist.save()
    assert works(secret)
    artist.set_password("another-long-passphrase-1")  # the admin, changepassword, reset
    artist.save()
    assert not works(secret)
    _, fresh = tokens.issue_token(user=artist)
    artist.save()  # saved again without a new password
    assert works(fresh)


def test_a_password_hash_upgrade_at_login_revokes_nothing(artist):
    """Django re-hashes an outdated hash when the password is checked: not a change."""
    hasher = PBKDF2PasswordHasher()
    outdated = hasher.encode(PASSWORD, hasher.salt(), iterations=1000)
    artist.password = outdated
    artist.save(update_fields=["password"])
    _, secret = tokens.issue_token(user=artist)
    assert artist.check_password(PASSWORD)
    artist.refresh_from_db()
    assert artist.password != outdated  # it was upgraded to the current iteration count
    assert works(secret)


def test_revoke_all_on_the_api(artist, artist2):
    caller = client_for(artist)  # one token, used for the request
    other = tokens.issue_token(user=artist)[1]
    theirs = tokens.issue_token(user=artist2)[1]
    response = caller.post("/api/v1/auth/tokens/revoke-all/")
    assert response.status_code == 200
    assert response.json() == {"revoked": 2}
    assert not works(other)
    assert caller.get("/api/v1/me/").status_code == 401  # the caller's own token too
    assert works(theirs)


def test_revoke_all_is_in_the_schema():
    schema = Client().get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/auth/tokens/revoke-all/"]["post"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/TokensRevoked")
    assert "requestBody" not in operation


def test_revoke_all_on_the_tokens_page(client, artist):
    secrets = [tokens.issue_token(user=artist, name=n)[1] for n in ("a", "b")]
    client.force_login(artist)
    assert 'action="/tokens/revoke-all/"' in client.get("/tokens/").content.decode()
    response = client.post("/tokens/revoke-all/")
    assert response.status_code == 302
    assert tokens.list_tokens(artist) == []
    assert not any(works(secret) for secret in secrets)
    assert client.get("/tokens/revoke-all/").status_code == 405


def test_token_creation_is_not_cached(artist):
    response = Client().post(
        "/api/v1/auth/tokens/",
        {"username": artist.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("fmt", ["json", "csv", "pdf"])
def test_api_statements_are_not_cached(program, artist, fmt):
    response = client_for(artist).get(f"/api/v1/statements/?program={program.pk}&format={fmt}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["statement/", "statement.csv", "statement.pdf"])
def test_statement_pages_are_not_cached(client, program, artist, path):
    client.force_login(artist)
    response = client.get(f"/programs/{program.pk}/{path}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
