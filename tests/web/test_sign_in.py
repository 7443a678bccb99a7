"""Signing in and out, passwords, and the headers and markup every page carries."""

import re

import pytest
from django.urls import reverse

from tests.conftest import accepted_work, log_bug
from tests.factories import PASSWORD

from .pages import field_error

pytestmark = pytest.mark.django_db


def test_login_page_and_sign_in(client, artist):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    response = client.post("/login/", {"username": "artist1", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get("/").status_code == 200


def test_wrong_password_is_shown_and_does_not_sign_in(client, artist):
    response = client.post("/login/", {"username": "artist1", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get("/").status_code == 302


def test_sign_out_is_a_post(client_for, artist):
    client = client_for(artist)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client_for, artist):
    client = client_for(artist)
    assert client.get("/password/").status_code == 200
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-2026",
            "new_password2": "a-much-longer-passphrase-2026",
        },
    )
    assert response.status_code == 302
    artist.refresh_from_db()
    assert artist.check_password("a-much-longer-passphrase-2026")


def test_password_change_errors_beside_field(client_for, artist):
    response = client_for(artist).post(
        "/password/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert "incorrect" in field_error(response, "old_password")
    artist.refresh_from_db()
    assert artist.check_password(PASSWORD)


def test_anonymous_is_sent_to_login(client):
    for url in ["/", "/contributions/", "/review/", "/payouts/", "/programs/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/login/"), url


def test_strict_csp_and_no_inline_script_or_style(client_for, admin, artist, program):
    accepted_work(program, artist, admin)
    log_bug(program, artist)
    client = client_for(admin)
    pages = [
        "/",
        "/review/",
        "/payouts/",
        "/payouts/new/",
        f"/programs/{program.pk}/",
        f"/programs/{program.pk}/transparency/",
        f"/programs/{program.pk}/statement/?artist={artist.pk}",
        "/programs/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, url
        assert "unsafe-inline" not in csp
        html = response.content.decode()
        assert " style=" not in html, url
        assert "<style" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert "skip-link" in html
