"""Every error in the contract's table, as problem+json with its status and code."""

import datetime as dt

import pytest

from ledger import services
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import TODAY, accepted_work, log_feedback
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_400_validation_error_names_fields(admin_api, program):
    body = problem(
        admin_api.post(
            f"/api/v1/programs/{program.pk}/rate-cards/",
            {
                "effective_from": "2024-01-01",
                "hourly_rate": "1.234",
                "bug_bounties": {"low": "1", "medium": "2", "high": 3, "critical": "-1"},
            },
            format="json",
        ),
        400,
        "validation_error",
    )
    assert fields_of(body) == {"hourly_rate", "bug_bounties.high", "bug_bounties.critical"}
    for item in body["errors"]:
        assert set(item) == {"field", "code", "message"}


def test_400_malformed_json(admin_api):
    response = admin_api.post(
        "/api/v1/programs/", data='{"name": "x",', content_type="application/json"
    )
    problem(response, 400, "validation_error")
    response = admin_api.post(
        "/api/v1/programs/", data='{"name": NaN}', content_type="application/json"
    )
    problem(response, 400, "validation_error")


def test_401_no_bad_expired_revoked_token(anon, artist, artist_api):
    body = problem(anon.get("/api/v1/me/"), 401, "not_authenticated")
    assert body["detail"]
    bad = client_for()
    bad.credentials(HTTP_AUTHORIZATION="Bearer nope")
    response = bad.get("/api/v1/me/")
    problem(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem(
        anon.post(
            "/api/v1/auth/tokens/", {"username": artist.username, "password": "wrong"}, "json"
        ),
        401,
        "authentication_failed",
    )
    # Revoked: leaves the list and stops working at once.
    created = anon.post(
        "/api/v1/auth/tokens/", {"username": artist.username, "password": PASSWORD}, "json"
    ).json()
    mine = client_for()
    mine.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    listed = mine.get("/api/v1/auth/tokens/").json()
    assert created["id"] in [t["id"] for t in listed["results"]]
    assert all("token" not in t for t in listed["results"])
    assert mine.delete(f"/api/v1/auth/tokens/{created['id']}/").status_code == 204
    problem(mine.get("/api/v1/me/"), 401, "authentication_failed")
    ids = [t["id"] for t in artist_api.get("/api/v1/auth/tokens/").json()["results"]]
    assert created["id"] not in ids
    # Expired.
    from accounts.models import ApiToken

    ApiToken.objects.filter(user=artist).update(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    problem(artist_api.get("/api/v1/me/"), 401, "authentication_failed")


def test_403_role_and_self_review(artist_api, admin, artist, program):
    problem(artist_api.post("/api/v1/programs/", {}, format="json"), 403, "permission_denied")
    # An admin who is a member cannot review its own work.
    services.enroll_artist(actor=admin, program=program, artist=admin)
    own = services.submit_contribution(
        actor=admin,
        artist=admin,
        program=program,
        kind="bug_report",
        title="mine",
        occurred_on=TODAY,
        severity="low",
    )
    admin_api = client_for(admin)
    problem(
        admin_api.post(f"/api/v1/contributions/{own.pk}/accept/", {}, format="json"),
        403,
        "permission_denied",
    )
    # Withdrawing someone else's work (visible to an admin) is a 403.
    theirs = log_feedback(program, artist)
    problem(
        admin_api.post(f"/api/v1/contributions/{theirs.pk}/withdraw/"), 403, "permission_denied"
    )


def test_404_unknown_routes_and_invisible_objects(anon, admin_api, artist_api):
    for method in ("get", "post", "delete"):
        problem(getattr(anon, method)("/api/v1/nothing/here/"), 404, "not_found")
    problem(admin_api.get("/api/v1/programs/999999/"), 404, "not_found")
    problem(admin_api.get("/api/v1/programs/abc/"), 404, "not_found")
    problem(anon.get("/api/v2/"), 404, "not_found")
    problem(admin_api.get("/api/v1/me"), 404, "not_found")  # no slash redirect into HTML


def test_405_method_not_allowed(admin_api, program):
    card = program.rate_cards.get()
    for method in ("put", "patch", "delete"):
        response = getattr(admin_api, method)(
            f"/api/v1/programs/{program.pk}/rate-cards/{card.pk}/", {}, format="json"
        )
        problem(response, 405, "method_not_allowed")
    problem(admin_api.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_409_invalid_transition_and_insufficient_balance(admin_api, admin, artist, program):
    work = accepted_work(program, artist, admin)
    problem(
        admin_api.post(f"/api/v1/contributions/{work.pk}/reject/", {"reason": "x"}, "json"),
        409,
        "invalid_transition",
    )
    problem(
        admin_api.post(
            "/api/v1/payouts/",
            {"artist": artist.pk, "program": program.pk, "amount": "90.01", "kind": "settlement"},
            format="json",
        ),
        409,
        "insufficient_balance",
    )
    assert program.payouts.count() == 0


def test_413_payload_too_large(admin_api):
    big = '{"name": "' + "x" * (1024 * 1024) + '"}'
    response = admin_api.post("/api/v1/programs/", data=big, content_type="application/json")
    problem(response, 413, "payload_too_large")


def test_413_when_content_length_lies(admin_api):
    # The parser counts what it reads, whatever Content-Length says.
    import io

    from rest_framework.exceptions import APIException

    from ledger.api.parsers import LimitedJSONParser

    with pytest.raises(APIException) as caught:
        LimitedJSONParser().parse(io.BytesIO(b'"' + b"x" * (1024 * 1024 + 10) + b'"'))
    assert caught.value.status_code == 413


def test_415_other_media_types(admin_api):
    response = admin_api.post(
        "/api/v1/programs/", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    problem(response, 415, "unsupported_media_type")


def test_422_and_replay_idempotency(admin_api, artist, program):
    body = {"artist": artist.pk, "program": program.pk, "amount": "5", "kind": "grant"}
    first = admin_api.post("/api/v1/payouts/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    again = admin_api.post("/api/v1/payouts/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = {**body, "amount": "6"}
    problem(
        admin_api.post("/api/v1/payouts/", other, format="json", HTTP_IDEMPOTENCY_KEY="k1"),
        422,
        "idempotency_conflict",
    )
    assert program.payouts.count() == 1


def test_429_throttled_writes_and_token_creation(anon, artist, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"write": "2/min", "token_create": "2/min"},
    }
    creds = {"username": artist.username, "password": PASSWORD}
    for _ in range(2):
        assert anon.post("/api/v1/auth/tokens/", creds, "json").status_code == 201
    response = anon.post("/api/v1/auth/tokens/", creds, "json")
    problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # A forged X-Forwarded-For does not buy a new allowance (no trusted proxies).
    response = anon.post("/api/v1/auth/tokens/", creds, "json", HTTP_X_FORWARDED_FOR="1.2.3.4")
    problem(response, 429, "throttled")
    api = client_for(artist)
    for _ in range(2):
        api.post("/api/v1/contributions/", {}, format="json")
    problem(api.post("/api/v1/contributions/", {}, format="json"), 429, "throttled")
    assert api.get("/api/v1/contributions/").status_code == 200  # reads are not writes


def test_500_is_a_problem_without_traceback(admin_api, monkeypatch):
    from ledger.api import serializers

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(serializers, "MeSerializer", boom)
    response = admin_api.get("/api/v1/me/")
    body = problem(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert body["detail"]


def test_validation_error_for_bad_filters(admin_api):
    body = problem(admin_api.get("/api/v1/contributions/?program=abc"), 400, "validation_error")
    assert fields_of(body) == {"program"}
    body = problem(admin_api.get("/api/v1/statements/"), 400, "validation_error")
    assert "program" in fields_of(body)
    body = problem(admin_api.get("/api/v1/ledger/verify/"), 400, "validation_error")
    assert fields_of(body) == {"program"}


def test_reason_is_required(admin_api, admin, artist, program):
    work = log_feedback(program, artist)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = admin_api.post(f"/api/v1/contributions/{work.pk}/reject/", body, format="json")
        assert fields_of(problem(response, 400, "validation_error")) == {"reason"}


def test_contribution_rules_name_fields(artist_api, admin_api, artist, artist2, program, admin):
    base = {"program": program.pk, "kind": "feedback", "title": "t", "occurred_on": str(TODAY)}
    cases = [
        (artist_api, {**base}, "hours"),
        (artist_api, {**base, "hours": "0"}, "hours"),
        (artist_api, {**base, "hours": "24.01"}, "hours"),
        (artist_api, {**base, "hours": 2}, "hours"),
        (artist_api, {**base, "hours": "1.234"}, "hours"),
        (artist_api, {**base, "kind": "bug_report"}, "severity"),
        (artist_api, {**base, "hours": "1", "artist": artist2.pk}, "artist"),
        (artist_api, {**base, "hours": "1", "occurred_on": "2000-01-01"}, "occurred_on"),
        (
            artist_api,
            {**base, "hours": "1", "occurred_on": str(TODAY + dt.timedelta(days=2))},
            "occurred_on",
        ),
        (admin_api, {**base, "hours": "1"}, "artist"),
        (artist_api, {**base, "hours": "1", "title": "x" * 201}, "title"),
    ]
    for api, body, field in cases:
        response = api.post("/api/v1/contributions/", body, format="json")
        assert field in fields_of(problem(response, 400, "validation_error")), (body, field)
    # A program the artist does not belong to.
    from tests.conftest import make_program

    other = make_program(admin, currency="EUR")
    response = artist_api.post(
        "/api/v1/contributions/", {**base, "program": other.pk, "hours": "1"}, format="json"
    )
    assert fields_of(problem(response, 400)) == {"program"}
    # Tomorrow in UTC is still somebody's today.
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=13)).date()
    response = artist_api.post(
        "/api/v1/contributions/",
        {**base, "hours": "1", "occurred_on": str(tomorrow)},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_members_and_rate_cards_duplicates(admin_api, artist, program):
    response = admin_api.post(
        f"/api/v1/programs/{program.pk}/members/", {"artist": artist.pk}, format="json"
    )
    assert fields_of(problem(response, 400)) == {"artist"}
    card = program.rate_cards.get()
    response = admin_api.post(
        f"/api/v1/programs/{program.pk}/rate-cards/",
        {
            "effective_from": str(card.effective_from),
            "hourly_rate": "1",
            "bug_bounties": {"low": "0", "medium": "0", "high": "0", "critical": "0"},
        },
        format="json",
    )
    assert fields_of(problem(response, 400)) == {"effective_from"}


def test_artist_creation_rules(admin_api, artist):
    body = {"username": artist.username, "email": "a@b.org", "password": "123"}
    assert fields_of(problem(admin_api.post("/api/v1/artists/", body, format="json"), 400)) == {
        "username"
    }
    body = {"username": "newbie", "email": "a@b.org", "password": "password"}
    assert fields_of(problem(admin_api.post("/api/v1/artists/", body, format="json"), 400)) == {
        "password"
    }


def test_plain_django_errors_under_api_become_problems(anon, monkeypatch):
    response = anon.post("/api/v1/docs/swagger-ui.css")
    problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]
    from ledger.api import docs

    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(docs, "rewritten", boom)
    response = anon.get("/api/v1/docs/swagger-ui.css")
    problem(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
