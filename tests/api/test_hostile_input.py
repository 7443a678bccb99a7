"""Hostile input: nested and oversized bodies, unicode edge cases, injection strings, mass
assignment of read-only fields, and response allow-lists (nothing secret or foreign leaks)."""

import json

import pytest

from ledger.models import Contribution, Payout
from tests.api.conftest import client_for, problem
from tests.conftest import TODAY, accepted_work

pytestmark = pytest.mark.django_db

INJECTIONS = [
    "'; DROP TABLE ledger_posting; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "{{ request.user.password }}",
    '=HYPERLINK("http://evil.example")',
]
UNICODE = [
    "Ünïcödé ✓ 🎨🖌️",
    "\u202eevil\u202c right-to-left override",
    "zero\u200bwidth\u200djoiner",
    "日本語のフィードバック",
    "e\u0301 combining accent",
]


def post_json(api, path, raw: str):
    return api.generic("POST", path, raw, content_type="application/json")


def test_deeply_nested_json_is_a_400_not_a_crash(artist_api):
    deep = '{"a":' * 50_000 + "1" + "}" * 50_000
    body = problem(post_json(artist_api, "/api/v1/contributions/", deep), 400)
    assert body["code"] == "validation_error"
    assert not Contribution.objects.exists()


def test_json_with_nan_and_duplicate_garbage(artist_api, program):
    response = post_json(
        artist_api,
        "/api/v1/contributions/",
        f'{{"program": {program.pk}, "kind": "feedback", "title": "t", '
        f'"occurred_on": "{TODAY}", "hours": NaN}}',
    )
    problem(response, 400)
    assert not Contribution.objects.exists()


def test_nul_character_is_refused_naming_the_field(artist_api, program):
    response = artist_api.post(
        "/api/v1/contributions/",
        {"program": program.pk, "kind": "bug_report", "title": "a\x00b",
         "occurred_on": str(TODAY), "severity": "low"},
        format="json",
    )  # fmt: skip
    errors = problem(response, 400, "validation_error")["errors"]
    assert [e["field"] for e in errors] == ["title"]
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("text", INJECTIONS + UNICODE)
def test_text_is_stored_verbatim_and_rendered_escaped(text, artist, artist_api, program, client):
    response = artist_api.post(
        "/api/v1/contributions/",
        {"program": program.pk, "kind": "bug_report", "title": text[:200], "description": text,
         "reference": text[:200], "occurred_on": str(TODAY), "severity": "low"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    stored = Contribution.objects.get(pk=response.json()["id"])
    assert (stored.title, stored.description, stored.reference) == (text[:200], text, text[:200])
    assert response.json()["description"] == text
    client.force_login(artist)
    html = client.get(f"/contributions/{stored.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    if text.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_mass_assignment_of_read_only_fields_is_ignored(artist, artist2, artist_api, program):
    response = artist_api.post(
        "/api/v1/contributions/",
        {"program": program.pk, "kind": "feedback", "title": "t", "occurred_on": str(TODAY),
         "hours": "1.00", "status": "accepted", "value": "99999.00", "reviewed_by": artist.pk,
         "reviewed_at": "2020-01-01T00:00:00Z", "id": 424242, "currency": "JPY"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["value"], body["reviewed_by"], body["currency"]) == (
        "submitted", None, None, "USD",
    )  # fmt: skip
    assert body["id"] != 424242
    assert Contribution.objects.get(pk=body["id"]).status == "submitted"


def test_payout_read_only_fields_ignored(admin, admin_api, artist, program):
    accepted_work(program, artist, admin, "2.00")
    response = admin_api.post(
        "/api/v1/payouts/",
        {"artist": artist.pk, "program": program.pk, "amount": "10.00", "kind": "grant",
         "status": "void", "created_by": artist.pk, "currency": "EUR"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    payout = Payout.objects.get()
    assert (payout.status, payout.created_by_id) == ("paid", admin.pk)
    assert response.json()["currency"] == "USD"


def test_huge_page_size_is_clamped(artist_api):
    response = artist_api.get("/api/v1/contributions/?page_size=100000000000000000000")
    assert response.status_code == 200


def test_no_secrets_or_foreign_rows_in_responses(admin, artist, artist2, program):
    accepted_work(program, artist2, admin, "1.00")
    api = client_for(artist)
    everything = json.dumps(
        [
            api.get(path).json()
            for path in (
                "/api/v1/me/", "/api/v1/artists/", "/api/v1/auth/tokens/",
                "/api/v1/contributions/", "/api/v1/balances/", "/api/v1/payouts/",
                "/api/v1/ledger/entries/",
            )
        ]
    )  # fmt: skip
    for secret in ("password", "pbkdf2", "key_hash", "lgr_", "is_superuser"):
        assert secret not in everything
    assert artist2.username not in everything and artist2.email not in everything
