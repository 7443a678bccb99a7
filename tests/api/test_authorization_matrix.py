"""Every /api/v1/ route × anonymous / an artist on another artist's object / an artist on an
admin action. Routes are discovered from the URL resolver: a route missing from EXPECTED
fails `test_every_route_is_in_the_matrix`, so a new route cannot escape the matrix."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ledger import services
from ledger.api.auth import issue_token
from tests.api.conftest import client_for, problem
from tests.conftest import log_feedback, make_program

PUBLIC = {"schema", "docs", "docs-css", "docs-img"}  # the schema and its docs: open to all

# (route name, method) → (anonymous, artist on another's object, artist on its own / on an
# admin-only action). A status, or None where the case does not apply.
EXPECTED = {
    ("token-list", "GET"): (401, None, None),
    ("token-list", "POST"): (400, None, None),  # credentials in the body; none sent here
    ("token-detail", "DELETE"): (401, 404, None),
    ("token-revoke-all", "POST"): (401, None, None),  # only ever the caller's own tokens
    ("me", "GET"): (401, None, None),
    ("artist-list", "GET"): (401, None, None),
    ("artist-list", "POST"): (401, None, 403),
    ("artist-detail", "GET"): (401, 404, None),
    ("program-list", "GET"): (401, None, None),
    ("program-list", "POST"): (401, None, 403),
    ("program-detail", "GET"): (401, 404, None),
    ("program-detail", "PATCH"): (401, 404, 403),
    ("staff-list", "GET"): (401, 404, 403),
    ("staff-list", "POST"): (401, 404, 403),
    ("staff-detail", "DELETE"): (401, 404, 403),
    ("invitation-list", "GET"): (401, 404, 403),  # a member who is not staff: 403
    ("invitation-list", "POST"): (401, 404, 403),
    ("invitation-revoke", "POST"): (401, 404, 403),
    ("ratecard-list", "GET"): (401, 404, None),
    ("ratecard-list", "POST"): (401, 404, 403),
    ("ratecard-detail", "GET"): (401, 404, None),
    ("ratecard-detail", "PUT"): (401, 404, 405),
    ("ratecard-detail", "PATCH"): (401, 404, 405),
    ("ratecard-detail", "DELETE"): (401, 404, 405),
    ("member-list", "GET"): (401, 404, None),
    ("member-list", "POST"): (401, 404, 403),
    ("program-report", "GET"): (404, 404, None),  # a private program: 404 to non-members
    ("contribution-list", "GET"): (401, None, None),
    ("contribution-list", "POST"): (401, None, None),
    ("contribution-detail", "GET"): (401, 404, None),
    ("contribution-accept", "POST"): (401, 404, 403),
    ("contribution-reject", "POST"): (401, 404, 403),
    ("contribution-reverse", "POST"): (401, 404, 403),
    ("contribution-withdraw", "POST"): (401, 404, None),
    ("payout-list", "GET"): (401, None, None),
    ("payout-list", "POST"): (401, None, 403),
    ("payout-detail", "GET"): (401, 404, None),
    ("payout-void", "POST"): (401, 404, 403),
    ("payout-approve", "POST"): (401, 404, 403),
    ("payout-decline", "POST"): (401, 404, 403),
    ("balance-list", "GET"): (401, None, None),
    ("entry-list", "GET"): (401, None, None),
    ("statement", "GET"): (401, 404, None),
    ("ledger-verify", "GET"): (401, None, 403),
    ("statement-verify", "POST"): (401, None, None),  # scoping: test_exports_api.py
    ("ledger-export", "GET"): (401, None, 403),
    ("export-outstanding", "GET"): (401, None, 403),
    ("export-payout-batch", "GET"): (401, None, 403),
}


def api_routes():
    """(name, method) of every route under the `api` namespace."""
    return [(name, method) for name, method, _ in api_handlers()]


def api_handlers():
    """(name, method, handler function) of every route under the `api` namespace."""
    root = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api")
    found = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name not in PUBLIC:
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions:
                    cls = callback.cls
                    handlers = {m: a for m, a in actions.items() if m != "head"}  # HEAD = GET
                else:
                    cls = callback.view_class
                    handlers = {
                        m: m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)
                    }
                for method, action in handlers.items():
                    found.append((pattern.name, method.upper(), getattr(cls, action)))

    walk(root.url_patterns)
    return found


def test_every_route_is_in_the_matrix():
    assert set(api_routes()) == set(EXPECTED)


@pytest.fixture
def world(admin, artist, artist2, program):
    """`artist` (the caller) next to `artist2`'s objects and a program it does not belong to."""
    private = make_program(admin, currency="EUR")
    services.enroll_artist(actor=admin, program=private, artist=artist2)
    theirs = log_feedback(program, artist2)
    mine = log_feedback(program, artist)
    grant_theirs = services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=100, kind="grant"
    )
    grant_mine = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
    )
    token_theirs, _ = issue_token(user=artist2)
    invited_theirs = services.invite(actor=admin, program=private, email="x@example.org")
    invited_mine = services.invite(actor=admin, program=program, email="y@example.org")
    other = {
        "token-detail": {"pk": token_theirs.pk},
        "artist-detail": {"pk": artist2.pk},
        "program-detail": {"pk": private.pk},
        "ratecard-list": {"program_id": private.pk},
        "ratecard-detail": {
            "program_id": private.pk,
            "card_id": private.rate_cards.get().pk,
        },
        "member-list": {"program_id": private.pk},
        "program-report": {"program_id": private.pk},
        "contribution-detail": {"pk": theirs.pk},
        "payout-detail": {"pk": grant_theirs.pk},
        "payout-void": {"pk": grant_theirs.pk},
        "payout-approve": {"pk": grant_theirs.pk},
        "payout-decline": {"pk": grant_theirs.pk},
        "staff-list": {"program_id": private.pk},
        "staff-detail": {"program_id": private.pk, "staff_id": private.staff_roles.get().pk},
        "invitation-list": {"program_id": private.pk},
        "invitation-revoke": {"program_id": private.pk, "invitation_id": invited_theirs.pk},
    }
    for action in ("accept", "reject", "reverse", "withdraw"):
        other[f"contribution-{action}"] = {"pk": theirs.pk}
    own = {
        "ratecard-list": {"program_id": program.pk},
        "ratecard-detail": {"program_id": program.pk, "card_id": program.rate_cards.get().pk},
        "member-list": {"program_id": program.pk},
        "payout-void": {"pk": grant_mine.pk},
        "payout-approve": {"pk": grant_mine.pk},
        "payout-decline": {"pk": grant_mine.pk},
        "program-detail": {"pk": program.pk},
        "staff-list": {"program_id": program.pk},
        "staff-detail": {"program_id": program.pk, "staff_id": program.staff_roles.get().pk},
        "invitation-list": {"program_id": program.pk},
        "invitation-revoke": {"program_id": program.pk, "invitation_id": invited_mine.pk},
    }
    for action in ("accept", "reject", "reverse"):
        own[f"contribution-{action}"] = {"pk": mine.pk}
    query = {"statement": f"?program={program.pk}&artist={artist2.pk}"}
    return {"other": other, "own": own, "query": query}


BODIES = {"POST": {}, "PUT": {}, "PATCH": {}}


def call(client, method, url):
    return getattr(client, method.lower())(url, BODIES.get(method), format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), sorted(EXPECTED))
def test_route_authorization(name, method, world, artist, anon):
    anonymous, on_other, on_own = EXPECTED[(name, method)]
    other_kwargs = world["other"].get(name, {})
    url = reverse(f"api:{name}", kwargs=other_kwargs) + world["query"].get(name, "")

    response = call(anon, method, url)
    body = problem(response, anonymous)
    if anonymous == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert body["code"] == "not_authenticated"

    me = client_for(artist)
    if on_other is not None:
        problem(call(me, method, url), on_other)
    if on_own is not None:
        own_url = reverse(f"api:{name}", kwargs=world["own"].get(name, {}))
        problem(call(me, method, own_url), on_own)


@pytest.mark.django_db
def test_session_login_works_and_needs_csrf(client, artist, program):
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(artist)
    assert browser.get("/api/v1/me/").json()["username"] == artist.username
    response = browser.post(
        "/api/v1/contributions/",
        {"program": program.pk, "kind": "bug_report", "title": "x", "occurred_on": "2020-01-01"},
        format="json",
    )
    problem(response, 403, "permission_denied")
