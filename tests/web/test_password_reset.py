"""Forgot password: Django's own views with the site's pages, mail through ledger.mail, an
answer that never says whether an address has a login, and limits on asking."""

import re

import pytest

from tests.factories import UserFactory

from .pages import field_error

pytestmark = pytest.mark.django_db

RESET = "/password/reset/"


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    def post(address, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(RESET, {"email": address}, **extra)

    return post


def test_sign_in_page_links_to_it(client):
    html = client.get("/login/").content.decode()
    assert f'href="{RESET}"' in html and "Forgot your password?" in html
    page = client.get(RESET)
    assert page.status_code == 200
    assert b'name="email"' in page.content and b"pico.min.css" in page.content  # site pages


def test_the_answer_is_the_same_for_known_and_unknown_addresses(
    ask, client, artist, mailoutbox, settings
):
    settings.LEDGER_SITE_URL = "https://ledger.example.org"
    known = ask(artist.email)
    unknown = ask("nobody@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/password/reset/sent/"
    assert client.get(known.url).content == client.get(unknown.url).content
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [artist.email]
    body = mailoutbox[0].body
    assert re.search(r"https://ledger\.example\.org/password/reset/[\w-]+/[\w-]+/", body)
    assert artist.username in body


def test_bad_address_is_shown_beside_the_field(ask, mailoutbox):
    response = ask("not an address")
    assert response.status_code == 200
    assert "valid email" in field_error(response, "email")
    assert mailoutbox == []


def test_each_address_gets_a_few_links_an_hour(ask, artist, mailoutbox, settings):
    settings.LEDGER_PASSWORD_RESETS_PER_HOUR = 2
    # From different client addresses, so only the per-recipient limit applies.
    answers = [ask(artist.email, REMOTE_ADDR=f"192.0.2.{i}") for i in range(4)]
    assert [a.status_code for a in answers] == [302] * 4  # the page does not tell
    assert len(mailoutbox) == 2


def test_a_client_asking_too_often_is_refused(ask, mailoutbox, settings):
    settings.LEDGER_PASSWORD_RESETS_PER_HOUR = 3
    people = [UserFactory(username=f"p{i}") for i in range(5)]
    answers = [ask(person.email) for person in people]
    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 3600  # until the oldest use is an hour old
    assert b"Too many requests" in answers[-1].content
    assert len(mailoutbox) == 3
    # Another client address is not held back.
    assert ask(people[4].email, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_a_bad_link_says_so(client):
    response = client.get("/password/reset/MQ/not-a-token/")
    assert response.status_code == 200
    assert b"This link does not work" in response.content
