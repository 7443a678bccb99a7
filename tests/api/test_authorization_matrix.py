"""Every /api/v1/ route × every kind of caller: anonymous, an artist of program A, another
member of A, an artist of program B only, each staff role of A (manager, reviewer, treasurer,
auditor), the staff of B (all four roles there) and an operator.

Routes are discovered from the URL resolver: a route missing from ROUTES fails
`test_every_route_is_in_the_matrix`, so a new route cannot escape the matrix. Adding a route
is one entry: its URL (built from the world of `roles_world`, with a fresh object where a call
that succeeds would change it), its body, and the status each caller gets, in CALLERS order.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ledger import clock, services
from tests.api.conftest import client_for
from tests.api.roles_world import CALLERS, World, build_world, csv_upload
from tests.factories import PASSWORD

PUBLIC = {"schema", "docs", "docs-css", "docs-img"}  # the schema and its docs: open to all

# The problem code each refusal carries.
CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
}


@dataclass(frozen=True)
class Route:
    """How to call one route as each caller, and what each gets.

    `expect`: statuses in CALLERS order, separated by spaces. `url(world)` is called once per
    caller, so a route whose call succeeds builds a fresh object there. `body` is a dict, or
    `body(world, caller_user)` for a body made per caller.
    """

    expect: str
    url: Callable[[World], str]
    body: dict | Callable | None = None
    multipart: bool = False  # a file upload, not JSON

    def statuses(self) -> dict[str, int]:
        codes = [int(code) for code in self.expect.split()]
        assert len(codes) == len(CALLERS), self.expect
        return dict(zip(CALLERS, codes, strict=True))


def url(name, query="", **kwargs) -> str:
    return reverse(f"api:{name}", kwargs=kwargs) + query


def _a(name, query="") -> Callable[[World], str]:
    """A route of program A itself."""
    return lambda w: url(name, query.format(w=w), program_id=w.a.pk)


def _on(name, make) -> Callable[[World], str]:
    """A route about one object: `make(world)` gives it (fresh, or one of the world's)."""
    return lambda w: url(name, pk=make(w).pk)


def _of_a(name) -> Callable[[World], str]:
    """A collection route naming program A in its query."""
    return lambda w: url(name, f"?program={w.a.pk}")


def _webhook(name, make) -> Callable[[World], str]:
    """A route about one of A's webhook subscriptions, made by `make(world)`."""
    return lambda w: url(name, program_id=w.a.pk, webhook_id=make(w).pk)


def _delivery(name) -> Callable[[World], str]:
    """A route about a fresh delivery of a fresh webhook subscription of A."""

    def build(w):
        delivery = w.webhook_delivery()
        return url(
            name, program_id=w.a.pk, webhook_id=delivery.subscription_id, delivery_id=delivery.pk
        )

    return build


REASON = {"reason": "Checked against the bank statement."}

# The columns:     anon art peer artB  mgr  rev  tre  aud  stB   op
ALL_SIGNED_IN = "401 200 200 200 200 200 200 200 200 200"
READ_A = "        401 200 200 404 200 200 200 200 404 200"  # the program and what it publishes
READ_OWN = "      401 200 404 404 200 200 200 200 404 200"  # the artist's own rows in A
STAFF_READ = "    401 403 403 403 200 200 200 200 404 200"  # the books: staff of A only
MANAGE = "        401 403 403 404 {ok} 403 403 403 404 {ok}"
REVIEW = "        401 403 404 404 403 200 403 403 404 200"
PAY = "           401 403 404 404 403 403 200 403 404 200"
IMMUTABLE = "     401 405 405 404 405 405 405 405 404 405"
STAFF_OF_A = "    401 403 403 404 200 200 200 200 404 200"  # A's administration: its staff

ROUTES: dict[tuple[str, str], Route] = {
    ("token-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("token-list")),
    ("token-list", "POST"): Route(  # credentials in the body, no token; anonymous sends none
        "400 201 201 201 201 201 201 201 201 201",
        lambda w: url("token-list"),
        lambda w, who: {} if who is None else {"username": who.username, "password": PASSWORD},
    ),
    ("token-detail", "DELETE"): Route(  # the artist's token: nobody else's to revoke
        "401 204 404 404 404 404 404 404 404 404", _on("token-detail", World.artist_token)
    ),
    ("token-revoke-all", "POST"): Route(ALL_SIGNED_IN, lambda w: url("token-revoke-all")),
    ("me", "GET"): Route(ALL_SIGNED_IN, lambda w: url("me")),
    ("me-preferences", "GET"): Route(ALL_SIGNED_IN, lambda w: url("me-preferences")),
    ("me-preferences", "PATCH"): Route(
        ALL_SIGNED_IN, lambda w: url("me-preferences"), {"email_notifications": False}
    ),
    ("notification-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("notification-list")),
    ("notification-read", "POST"): Route(  # the artist's own: nobody else's, operators included
        "401 200 404 404 404 404 404 404 404 404", _on("notification-read", World.notification)
    ),
    ("notification-read-all", "POST"): Route(ALL_SIGNED_IN, lambda w: url("notification-read-all")),
    ("artist-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("artist-list")),
    ("artist-list", "POST"): Route(
        "401 403 403 403 403 403 403 403 403 201",
        lambda w: url("artist-list"),
        lambda w, who: {
            "username": f"new{w.next()}",
            "email": f"new{w.next()}@example.org",
            "display_name": "New",
            "password": PASSWORD,
        },
    ),
    ("artist-detail", "GET"): Route(READ_OWN, _on("artist-detail", lambda w: w.artist)),
    ("program-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("program-list")),
    ("program-list", "POST"): Route(
        "401 403 403 403 403 403 403 403 403 201",
        lambda w: url("program-list"),
        {"name": "New program", "currency": "USD"},
    ),
    ("program-detail", "GET"): Route(READ_A, lambda w: url("program-detail", pk=w.a.pk)),
    ("program-detail", "PATCH"): Route(
        MANAGE.format(ok=200),
        lambda w: url("program-detail", pk=w.a.pk),
        lambda w, who: {"description": f"Edited {w.next()}"},
    ),
    ("staff-list", "GET"): Route("401 403 403 404 200 200 200 200 404 200", _a("staff-list")),
    ("staff-list", "POST"): Route(
        MANAGE.format(ok=201),
        _a("staff-list"),
        lambda w, who: {"user": w.enrollable().pk, "role": "auditor"},
    ),
    ("staff-detail", "DELETE"): Route(
        MANAGE.format(ok=204),
        lambda w: url("staff-detail", program_id=w.a.pk, staff_id=w.staff_row().pk),
    ),
    ("invitation-list", "GET"): Route(
        "401 403 403 404 200 200 200 200 404 200", _a("invitation-list")
    ),
    ("invitation-list", "POST"): Route(
        MANAGE.format(ok=201),
        _a("invitation-list"),
        lambda w, who: {"email": f"invitee{w.next()}@example.org"},
    ),
    ("invitation-revoke", "POST"): Route(
        MANAGE.format(ok=200),
        lambda w: url("invitation-revoke", program_id=w.a.pk, invitation_id=w.invitation().pk),
    ),
    ("webhook-list", "GET"): Route(STAFF_OF_A, _a("webhook-list")),
    ("webhook-list", "POST"): Route(
        MANAGE.format(ok=201),
        _a("webhook-list"),
        {"url": "https://93.184.215.14/hooks", "events": ["payout.paid"]},
    ),
    ("webhook-detail", "GET"): Route(STAFF_OF_A, _webhook("webhook-detail", World.webhook)),
    ("webhook-detail", "DELETE"): Route(
        MANAGE.format(ok=204), _webhook("webhook-detail", World.webhook)
    ),
    ("webhook-delivery-list", "GET"): Route(
        STAFF_OF_A, _webhook("webhook-delivery-list", World.webhook)
    ),
    ("webhook-delivery-detail", "GET"): Route(STAFF_OF_A, _delivery("webhook-delivery-detail")),
    ("webhook-delivery-redeliver", "POST"): Route(
        MANAGE.format(ok=202), _delivery("webhook-delivery-redeliver")
    ),
    ("ratecard-list", "GET"): Route(READ_A, _a("ratecard-list")),
    ("ratecard-list", "POST"): Route(
        MANAGE.format(ok=201),
        _a("ratecard-list"),
        lambda w, who: {
            "effective_from": w.card_date(),
            "hourly_rate": "50",
            "bug_bounties": {"low": "1", "medium": "2", "high": "3", "critical": "4"},
        },
    ),
    **{
        ("ratecard-detail", method): Route(
            READ_A if method == "GET" else IMMUTABLE,
            lambda w: url(
                "ratecard-detail", program_id=w.a.pk, card_id=w.a.rate_cards.earliest("id").pk
            ),
            None if method == "GET" else {"hourly_rate": "1"},
        )
        for method in ("GET", "PUT", "PATCH", "DELETE")
    },
    ("member-list", "GET"): Route(READ_A, _a("member-list")),
    ("member-list", "POST"): Route(
        MANAGE.format(ok=201), _a("member-list"), lambda w, who: {"artist": w.enrollable().pk}
    ),
    ("import-list", "GET"): Route("401 403 403 404 200 200 200 200 404 200", _a("import-list")),
    ("import-list", "POST"): Route(  # a dry run of a file with one row of the artist's work
        "401 403 403 404 202 202 403 403 404 202",
        _a("import-list"),
        lambda w, who: {
            "file": csv_upload(f"{w.artist.username},bug_report,Crash,{clock.today()},,low,,\n"),
            "dry_run": "true",
        },
        multipart=True,
    ),
    ("import-detail", "GET"): Route(  # started by A's reviewer: A's staff and operators
        "401 404 404 404 200 200 200 200 404 200", _on("import-detail", World.import_job)
    ),
    ("program-report", "GET"): Route(  # a private program: 404 to anyone outside it
        "404 200 200 404 200 200 200 200 404 200", _a("program-report")
    ),
    ("contribution-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("contribution-list")),
    ("contribution-list", "POST"): Route(  # work of `artist` in A, logged by each caller
        "401 201 400 400 201 201 400 400 400 201",
        lambda w: url("contribution-list"),
        lambda w, who: {
            "program": w.a.pk,
            "artist": w.artist.pk,
            "kind": "bug_report",
            "severity": "low",
            "title": "Crash",
            "occurred_on": clock.today().isoformat(),
        },
    ),
    ("contribution-detail", "GET"): Route(
        READ_OWN, _on("contribution-detail", lambda w: w.objects["work"])
    ),
    ("contribution-accept", "POST"): Route(
        REVIEW, _on("contribution-accept", World.submitted), {"note": "ok"}
    ),
    ("contribution-reject", "POST"): Route(
        REVIEW, _on("contribution-reject", World.submitted), REASON
    ),
    ("contribution-reverse", "POST"): Route(
        REVIEW, _on("contribution-reverse", World.accepted), REASON
    ),
    ("contribution-withdraw", "POST"): Route(  # only its own artist
        "401 200 404 404 403 403 403 403 404 403", _on("contribution-withdraw", World.submitted)
    ),
    ("payout-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("payout-list")),
    ("payout-list", "POST"): Route(  # a grant in A: program A is no program to staff of B
        "401 403 403 403 403 403 201 403 400 201",
        lambda w: url("payout-list"),
        lambda w, who: {"artist": w.artist.pk, "program": w.a.pk, "amount": "1", "kind": "grant"},
    ),
    ("payout-detail", "GET"): Route(READ_OWN, _on("payout-detail", lambda w: w.objects["grant"])),
    ("payout-void", "POST"): Route(PAY, _on("payout-void", World.paid_grant), REASON),
    ("payout-approve", "POST"): Route(PAY, _on("payout-approve", World.proposal)),
    ("payout-decline", "POST"): Route(PAY, _on("payout-decline", World.proposal), REASON),
    ("payout-confirm", "POST"): Route(  # only the artist paid; staff and operators see it: 403
        "401 200 404 404 403 403 403 403 404 403", _on("payout-confirm", World.paid_grant)
    ),
    ("dispute-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("dispute-list")),
    ("dispute-list", "POST"): Route(  # about `artist`'s rejected work: only it may dispute
        "401 201 400 400 403 403 403 403 400 403",
        lambda w: url("dispute-list"),
        lambda w, who: {
            "subject_type": "contribution",
            "subject": w.rejected().pk,
            "claim": "rejection",
            "statement": "It was in scope.",
        },
    ),
    ("dispute-detail", "GET"): Route(
        READ_OWN, _on("dispute-detail", lambda w: w.objects["dispute"])
    ),
    ("dispute-uphold", "POST"): Route(  # about work: a reviewer other than its rejecter
        REVIEW, _on("dispute-uphold", World.disputed_rejection), {"note": "Upheld."}
    ),
    ("dispute-dismiss", "POST"): Route(  # about a payout: a treasurer other than its payer
        PAY, _on("dispute-dismiss", World.disputed_payout), {"note": "It arrived."}
    ),
    ("dispute-withdraw", "POST"): Route(  # only its own artist
        "401 200 404 404 403 403 403 403 404 403", _on("dispute-withdraw", World.disputed_payout)
    ),
    ("balance-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("balance-list")),
    ("entry-list", "GET"): Route(ALL_SIGNED_IN, lambda w: url("entry-list")),
    ("statement", "GET"): Route(
        READ_OWN, lambda w: url("statement", f"?program={w.a.pk}&artist={w.artist.pk}")
    ),
    ("statement-verify", "POST"): Route(
        READ_OWN, lambda w: url("statement-verify"), lambda w, who: w.objects["statement"]
    ),
    ("ledger-verify", "GET"): Route(STAFF_READ, _of_a("ledger-verify")),
    ("ledger-export", "GET"): Route(
        STAFF_READ, lambda w: url("ledger-export", f"?program={w.a.pk}&format=hledger")
    ),
    ("export-outstanding", "GET"): Route(STAFF_READ, _of_a("export-outstanding")),
    ("export-payout-batch", "GET"): Route(
        STAFF_READ,
        lambda w: url("export-payout-batch", f"?program={w.a.pk}&paid_on={clock.today()}"),
    ),
}


def _payable_b(world) -> str:
    """Today's batch of program B (EUR) as pain.001, B given a paying account and its artist
    an IBAN (once), so the callers who may have the file get one."""
    if "payable" not in world.objects:
        services.update_program(
            actor=world.operator,
            program=world.b,
            payer_name="Program B",
            payer_iban="DE02120300000000202051",
        )
        services.set_bank_details(
            actor=world.artist_b, user=world.artist_b, iban="DE89370400440532013000"
        )
        world.objects["payable"] = True
    return url("export-payout-batch", f"?program={world.b.pk}&paid_on={clock.today()}")


# Variants of a route whose answer depends on a parameter, not only on the caller: the same
# route and method, another query. The payment file holds whole IBANs: only the program's
# treasurers (and operators) have it, where the CSV of the same batch is any staff's.
VARIANTS: dict[tuple[str, str, str], Route] = {
    # Program A pays in USD: who passes the role check is told the format is EUR-only (400).
    ("export-payout-batch", "GET", "pain.001 of A"): Route(
        "401 403 403 403 403 403 400 403 404 400",
        lambda w: url(
            "export-payout-batch", f"?program={w.a.pk}&paid_on={clock.today()}&format=pain.001"
        ),
    ),
    ("export-payout-batch", "GET", "pain.001 of B"): Route(
        "401 403 403 403 404 404 404 404 200 200",
        lambda w: _payable_b(w) + "&format=pain.001",
    ),
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
    routes = set(api_routes())
    assert not routes - set(ROUTES), "routes missing from ROUTES"
    assert not set(ROUTES) - routes, "ROUTES names routes that do not exist"


def test_every_route_has_a_status_for_every_caller():
    for key, route in ROUTES.items():
        statuses = route.statuses()
        assert set(statuses.values()) <= {200, 201, 202, 204, *CODES}, key


def call(world, name, method, route, caller):
    """One request to the route as `caller`, through a token of its own (a fresh one each
    time: revoking all tokens must not sign the caller out of the next call)."""
    user = world.people[caller]
    client = client_for(user)
    body = route.body(world, user) if callable(route.body) else route.body
    path = route.url(world)
    if method == "GET":
        return client.get(path)
    if route.multipart:
        return client.post(path, body, format="multipart")
    return getattr(client, method.lower())(path, body or {}, format="json")


def check(response, status) -> str | None:
    """Why the response is not the expected one, or None."""
    if response.status_code != status:
        return f"{response.status_code} (wanted {status}): {response.content[:300]!r}"
    if status >= 400:
        if not response["Content-Type"].startswith("application/problem+json"):
            return f"{status} is not problem+json: {response['Content-Type']}"
        body = response.json()
        if body.get("code") != CODES[status] or body.get("status") != status:
            return f"{status} with code {body.get('code')}"
        if status == 401 and not response.get("WWW-Authenticate", "").startswith("Bearer"):
            return "401 without WWW-Authenticate: Bearer"
    return None


@pytest.fixture
def world(db):
    world = build_world()
    # A statement as GET /statements/ gives it, for the statement check route.
    operator = client_for(world.operator)
    statement = operator.get(url("statement", f"?program={world.a.pk}&artist={world.artist.pk}"))
    world.objects["statement"] = statement.json()
    return world


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), sorted(ROUTES))
def test_route_as_every_caller(name, method, world):
    route = ROUTES[(name, method)]
    wrong = {}
    for caller, status in route.statuses().items():
        problem = check(call(world, name, method, route, caller), status)
        if problem:
            wrong[caller] = problem
    assert not wrong, f"{method} {name}: {wrong}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "variant"), sorted(VARIANTS))
def test_variant_as_every_caller(name, method, variant, world):
    route = VARIANTS[(name, method, variant)]
    wrong = {}
    for caller, status in route.statuses().items():
        problem = check(call(world, name, method, route, caller), status)
        if problem:
            wrong[caller] = problem
    assert not wrong, f"{method} {name} ({variant}): {wrong}"


@pytest.mark.django_db
def test_session_login_works_and_needs_csrf(artist, program):
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(artist)
    assert browser.get("/api/v1/me/").json()["username"] == artist.username
    response = browser.post(
        "/api/v1/contributions/",
        {"program": program.pk, "kind": "bug_report", "title": "x", "occurred_on": "2020-01-01"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
