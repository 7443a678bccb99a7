"""Input rules with one home each, seen from the API and the pages: ids from requests
(ledger.params), cursors, references, the earliest date and invisible-only required text."""

import datetime as dt

import pytest

from ledger.models import Contribution, Payout, RateCard
from ledger.params import MAX_ID, parse_id
from tests.api.conftest import fields_of, problem
from tests.conftest import TODAY, accepted_work, log_feedback
from tests.web.pages import field_error

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "\u00b2"  # "²".isdigit() is True, int("²") raises


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        (7, 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("-1", None),
        (SUPERSCRIPT_TWO, None),
        ("\u0661\u0662", None),  # Arabic-Indic "12": int() takes it
        (" 7 ", None),
        ("1_000", None),
        ("1" * 31, None),
        (True, None),
        (None, None),
        (1.0, None),
    ],
)
def test_parse_id(value, expected):
    assert parse_id(value) == expected


# --- Non-ASCII digits on the pages ------------------------------------------------------------


def test_rate_preview_with_a_superscript_program_is_not_a_crash(client, artist, program):
    client.force_login(artist)
    response = client.get("/contributions/rate-preview/", {"program": SUPERSCRIPT_TWO})
    assert response.status_code == 200
    assert "Choose a program" in response.content.decode()


@pytest.mark.parametrize("path", ["/contributions/new/feedback/", "/contributions/new/bug-report/"])
def test_work_form_with_a_superscript_program_is_a_form_error(client, artist, program, path):
    client.force_login(artist)
    response = client.post(
        path,
        {"program": SUPERSCRIPT_TWO, "title": "t", "occurred_on": TODAY.isoformat(),
         "hours": "1", "severity": "low"},
    )  # fmt: skip
    assert response.status_code == 200
    assert field_error(response, "program")
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("suffix", ["statement/", "statement.csv", "statement.pdf"])
@pytest.mark.parametrize("artist_id", [SUPERSCRIPT_TWO, "1" * 30, "-1"])
def test_statement_pages_with_a_bad_artist_id_are_404(client, admin, program, suffix, artist_id):
    client.force_login(admin)
    response = client.get(f"/programs/{program.pk}/{suffix}", {"artist": artist_id})
    assert response.status_code == 404


def test_payouts_page_with_a_superscript_program_lists_all(client, admin, artist, program):
    accepted_work(program, artist, admin)
    client.force_login(admin)
    response = client.get("/payouts/", {"program": SUPERSCRIPT_TWO})
    assert response.status_code == 200
    assert str(artist) in response.content.decode()


def test_api_ids_take_ascii_digits_only(admin_api, program):
    arabic = "".join(chr(0x0660 + int(d)) for d in str(program.pk))  # int() would read it
    response = admin_api.get("/api/v1/ledger/verify/", {"program": arabic})
    assert "program" in fields_of(problem(response, 400, "validation_error"))
    assert admin_api.get("/api/v1/ledger/verify/", {"program": program.pk}).status_code == 200


# --- Cursors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["cD1hYmM=", "cD0xJTAw", "not base64!", "\u00b2"])
def test_a_tampered_cursor_is_a_400_naming_cursor(artist_api, cursor):
    response = artist_api.get("/api/v1/ledger/entries/", {"cursor": cursor})
    assert fields_of(problem(response, 400, "validation_error")) == {"cursor"}


def test_an_issued_cursor_still_pages(admin, admin_api, artist, program):
    for _ in range(3):
        accepted_work(program, artist, admin)
    first = admin_api.get("/api/v1/ledger/entries/", {"page_size": 2}).json()
    second = admin_api.get(first["next"])
    assert second.status_code == 200
    assert second.json()["results"]


# --- References -------------------------------------------------------------------------------


def bug(api, program, **extra):
    return api.post(
        "/api/v1/contributions/",
        {"program": program.pk, "kind": "bug_report", "title": "t",
         "occurred_on": str(TODAY), "severity": "low", **extra},
        format="json",
    )  # fmt: skip


@pytest.mark.parametrize(
    "reference",
    ["javascript:alert(1)", "JavaScript:alert(1)", " \tjava\nscript:alert(1)",
     "data:text/html,<b>x</b>", "vbscript:x", "file:///etc/passwd", "http://", "https://exa mple"],
)  # fmt: skip
def test_a_reference_with_another_scheme_is_refused(artist_api, program, reference):
    response = bug(artist_api, program, reference=reference)
    assert fields_of(problem(response, 400, "validation_error")) == {"reference"}
    assert not Contribution.objects.exists()


@pytest.mark.parametrize(
    "reference", ["BUG-123", "see tracker", "https://tracker.example.org/issues/12"]
)
def test_plain_text_and_web_references_are_kept(artist_api, program, reference):
    response = bug(artist_api, program, reference=reference)
    assert response.status_code == 201, response.content
    assert response.json()["reference"] == reference


def test_the_form_refuses_a_javascript_reference(client, artist, program):
    client.force_login(artist)
    response = client.post(
        "/contributions/new/bug-report/",
        {"program": program.pk, "title": "t", "occurred_on": TODAY.isoformat(),
         "severity": "low", "reference": "javascript:alert(1)"},
    )  # fmt: skip
    assert "http(s)" in field_error(response, "reference")
    assert not Contribution.objects.exists()


def test_only_web_references_are_rendered_as_links(client, admin, artist, program):
    stored = log_feedback(program, artist)
    client.force_login(admin)
    # A row written before the rule (or behind the app's back) must still not become a link.
    Contribution.objects.filter(pk=stored.pk).update(reference="javascript:alert(1)")
    html = client.get(f"/contributions/{stored.pk}/").content.decode()
    assert "javascript:alert(1)" in html
    assert 'href="javascript' not in html
    Contribution.objects.filter(pk=stored.pk).update(reference="https://tracker.example.org/1")
    html = client.get(f"/contributions/{stored.pk}/").content.decode()
    assert 'href="https://tracker.example.org/1"' in html


# --- The earliest date ------------------------------------------------------------------------


def test_a_payout_before_the_floor_is_refused(admin, admin_api, artist, program):
    accepted_work(program, artist, admin)
    response = admin_api.post(
        "/api/v1/payouts/",
        {"artist": artist.pk, "program": program.pk, "amount": "1.00", "kind": "grant",
         "paid_on": "0001-01-01"},
        format="json",
    )  # fmt: skip
    assert fields_of(problem(response, 400, "validation_error")) == {"paid_on"}
    assert not Payout.objects.exists()


def test_a_rate_card_before_the_floor_is_refused(admin_api, program):
    response = admin_api.post(
        f"/api/v1/programs/{program.pk}/rate-cards/",
        {"effective_from": "0001-01-01", "hourly_rate": "1.00",
         "bug_bounties": {"low": "1", "medium": "1", "high": "1", "critical": "1"}},
        format="json",
    )  # fmt: skip
    assert fields_of(problem(response, 400, "validation_error")) == {"effective_from"}
    assert RateCard.objects.count() == 1


def test_work_before_the_floor_is_refused(settings, artist_api, program):
    # A floor inside the rate card's span, so only the floor can refuse the date.
    settings.LEDGER_EARLIEST_DATE = (TODAY - dt.timedelta(days=10)).isoformat()
    response = bug(artist_api, program, occurred_on=str(TODAY - dt.timedelta(days=20)))
    assert fields_of(problem(response, 400, "validation_error")) == {"occurred_on"}


@pytest.mark.parametrize("name", ["from", "to"])
def test_statement_filters_before_the_floor_are_refused(artist, artist_api, program, name):
    response = artist_api.get("/api/v1/statements/", {"program": program.pk, name: "0001-01-01"})
    assert fields_of(problem(response, 400, "validation_error")) == {name}


def test_the_floor_is_a_setting(settings, artist_api, program):
    settings.LEDGER_EARLIEST_DATE = "1990-01-01"
    response = artist_api.get("/api/v1/statements/", {"program": program.pk, "from": "1995-01-01"})
    assert response.status_code == 200


def test_pages_show_the_floor_beside_the_field(client, admin, artist, program):
    client.force_login(admin)
    response = client.post(
        f"/programs/{program.pk}/rate-cards/",
        {"effective_from": "0001-01-01", "hourly_rate": "1", "bounty_low": "1",
         "bounty_medium": "1", "bounty_high": "1", "bounty_critical": "1"},
    )  # fmt: skip
    assert "earliest" in field_error(response, "effective_from")
    response = client.get(
        f"/programs/{program.pk}/statement/", {"artist": artist.pk, "date_from": "0001-01-01"}
    )
    assert "earliest" in field_error(response, "date_from")


# --- Invisible-only required text ---------------------------------------------------------


INVISIBLE = ["\u200b", "\u200b\u200c\u200d\u2060", "\ufeff \u00a0", "\u3164", "\u202e\u202c"]


@pytest.mark.parametrize("title", INVISIBLE)
def test_an_invisible_title_is_missing(artist_api, program, title):
    response = bug(artist_api, program, title=title)
    assert fields_of(problem(response, 400, "validation_error")) == {"title"}
    assert not Contribution.objects.exists()


def test_an_invisible_title_on_the_form_is_missing(client, artist, program):
    client.force_login(artist)
    response = client.post(
        "/contributions/new/feedback/",
        {"program": program.pk, "title": "\u200b", "occurred_on": TODAY.isoformat(), "hours": "1"},
    )
    assert "required" in field_error(response, "title")
    assert not Contribution.objects.exists()


def test_an_invisible_reason_is_missing(admin_api, artist, program):
    work = log_feedback(program, artist)
    response = admin_api.post(
        f"/api/v1/contributions/{work.pk}/reject/", {"reason": "\u200b\u200b"}, format="json"
    )
    assert fields_of(problem(response, 400, "validation_error")) == {"reason"}


def test_visible_text_with_invisible_characters_is_kept(artist_api, program):
    response = bug(artist_api, program, title="zero\u200bwidth")
    assert response.status_code == 201


@pytest.mark.parametrize("next_url", ["\u00b2", "home", "//evil.example/x"])
def test_next_is_followed_only_as_a_local_path(client, artist, program, next_url):
    work = log_feedback(program, artist)
    client.force_login(artist)
    response = client.post(f"/contributions/{work.pk}/withdraw/", {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == f"/contributions/{work.pk}/"
