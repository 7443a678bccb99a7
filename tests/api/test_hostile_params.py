"""Every route × every parameter it reads × hostile values × anonymous / artist / admin: no 5xx.

Routes come from the URL resolver (pages and /api/v1/; Django's own admin site excluded), so a
new route is swept as soon as it exists; one with a path parameter this file cannot fill fails
`test_every_path_parameter_has_a_value` until it is given one.

Parameters are found by watching, not by a list to keep up to date: during the sweep the query
string (`request.GET`, which DRF's `query_params` is), the form body (`request.POST`) and the
JSON body are recording dictionaries, and every key a view, form, serializer, paginator or
content negotiation asks for is recorded. Each route is first probed with a non-empty query
and body (so `Form(request.GET or None)` binds and reads every field), then every recorded key
is sent each hostile value; keys first read during those requests are swept too, until no new
key appears. A new parameter is therefore swept the first time any code reads it. Why not a
declared list per view: it is exactly the list that drifts. As a backstop against a parameter
read only on a path the probe never reaches, `test_every_literal_parameter_name_is_swept`
greps the sources for `GET.get("x")`-style reads and requires each name to have been swept.

Cost: about two thousand in-process requests (well under a minute); the values are few and
chosen to break a specific assumption each.
"""

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.handlers.wsgi import WSGIRequest
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import User
from ledger import services
from ledger.api import parsers
from ledger.api.auth import issue_token
from ledger.models import NotificationKind
from ledger.notifications import notify
from ledger.services import imports
from tests.api.roles_world import csv_upload
from tests.conftest import TODAY, log_feedback, open_dispute_about_rejection

# One value per broken assumption: a digit `int()` refuses and one it takes, a number past
# bigint, a sign, zero, empty, NUL (PostgreSQL refuses it in text), very long, a link scheme,
# SQL and HTML fragments, a tampered cursor (base64 of "p=abc"), dates at both ends of the
# calendar.
HOSTILE = [
    "\u00b2",
    str(10**30),
    "-1",
    "0",
    "",
    "1\x00",
    "9" * 5000,
    "javascript:alert(1)",
    "<script>alert(1)</script>' OR '1'='1' --",
    "cD1hYmM=",
    "0001-01-01",
    "9999-12-31",
]
# JSON bodies also carry values of the wrong type.
HOSTILE_JSON = [*HOSTILE, 10**30, None, [{"a": 1}]]
# Public routes whose answer does not depend on the caller (the schema and its docs): swept
# by the anonymous client only; generating the schema costs 0.3 s a request.
CALLER_INDEPENDENT = {"api:schema", "api:docs", "api:docs-css", "api:docs-img", "healthz"}

PROBE = "_probe"  # a key no view reads: makes the query string and the body non-empty
SOURCES = ("query", "form", "json")
_reads: set[tuple[str, str]] = set()  # (source, key) read during the current request
_swept: set[str] = set()  # every key swept by this module (for the source-scan backstop)


def _note(source, key):
    if key != PROBE and isinstance(key, str):
        _reads.add((source, key))


def _recording(source):
    class Recording(QueryDict):
        def __getitem__(self, key):
            _note(source, key)
            return super().__getitem__(key)

        def get(self, key, default=None):
            _note(source, key)
            return super().get(key, default)

        def getlist(self, key, default=None):
            _note(source, key)
            return super().getlist(key, default)

        def __contains__(self, key):
            _note(source, key)
            return super().__contains__(key)

    return Recording


RecordingQuery, RecordingForm = _recording("query"), _recording("form")


class RecordingDict(dict):
    def __getitem__(self, key):
        _note("json", key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        _note("json", key)
        return super().get(key, default)

    def __contains__(self, key):
        _note("json", key)
        return super().__contains__(key)


@pytest.fixture
def recording(monkeypatch, settings):
    """Record the keys read from request.GET, request.POST and JSON bodies; no throttling."""

    def get(self):
        if "_recording_get" not in self.__dict__:
            query = self.environ.get("QUERY_STRING", "")
            self.__dict__["_recording_get"] = RecordingQuery(query, encoding=self._encoding)
        return self.__dict__["_recording_get"]

    def set_get(self, value):
        self.__dict__["_recording_get"] = value

    def del_get(self):  # Django drops the cached GET when it re-reads a multipart body
        self.__dict__.pop("_recording_get", None)

    original_load = WSGIRequest._load_post_and_files

    def load(self):
        original_load(self)
        copy = RecordingForm(mutable=True)
        for key, values in self._post.lists():
            copy.setlist(key, values)
        copy._mutable = False
        self._post = copy

    original_parse = parsers.LimitedJSONParser.parse

    def parse(self, *args, **kwargs):
        data = original_parse(self, *args, **kwargs)
        return RecordingDict(data) if isinstance(data, dict) else data

    monkeypatch.setattr(WSGIRequest, "GET", property(get, set_get, del_get))
    monkeypatch.setattr(WSGIRequest, "_load_post_and_files", load)
    monkeypatch.setattr(parsers.LimitedJSONParser, "parse", parse)
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(rest["DEFAULT_THROTTLE_RATES"], "100000/min")
    settings.REST_FRAMEWORK = rest
    settings.AXES_ENABLED = False  # lockouts would hide the login form's own handling
    # Users are created after this fixture (it comes first): a fast hasher keeps the hundreds
    # of password checks (token creation, login) cheap; the hasher is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Routes -----------------------------------------------------------------------------------

# A path() parameter (`<int:pk>`) or a regex group (the DRF router's `(?P<pk>[^/.]+)`).
_PARAM = re.compile(r"<(?:[^>:]+:)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def _param_name(match) -> str:
    return match.group("name") or match.group("group")


def routes():
    """(name, route template, methods, is_api) of every page and API route."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    continue  # Django's own admin site
                ns = pattern.namespace or namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                template = prefix + str(pattern.pattern)
                if template.startswith("^api/"):
                    continue  # the catch-all problem+json 404 (a regex: nothing to fill)
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append((name, template, _methods(pattern.callback), bool(namespace)))

    walk(get_resolver().url_patterns, "", None)
    return found


def _methods(callback) -> list[str]:
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted({m.upper() for m in actions if m != "head"})
    cls = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if cls is None:
        return ["GET", "POST"]  # a function view: its decorators answer 405 where they must
    return [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]


ROUTES = {name: (template, methods, is_api) for name, template, methods, is_api in routes()}

# Whose id a route's `pk` is (every other path parameter is named for what it holds).
PK_OF = {
    **dict.fromkeys(
        ["contribution_detail", "contribution_withdraw", "contribution_accept",
         "contribution_reject", "contribution_reverse", "api:contribution-detail",
         "api:contribution-accept", "api:contribution-reject", "api:contribution-reverse",
         "api:contribution-withdraw", "dispute_contribution"],
        "contribution",
    ),
    **dict.fromkeys(
        ["payout_void", "payout_detail", "payout_approve", "payout_decline",
         "api:payout-detail", "api:payout-void", "api:payout-approve", "api:payout-decline",
         "api:payout-confirm", "payout_confirm", "dispute_payout"],
        "payout",
    ),
    **dict.fromkeys(
        ["dispute_detail", "dispute_uphold", "dispute_dismiss", "dispute_withdraw",
         "api:dispute-detail", "api:dispute-uphold", "api:dispute-dismiss",
         "api:dispute-withdraw"],
        "dispute",
    ),
    **dict.fromkeys(
        ["program_detail", "rate_card_new", "member_new", "transparency", "outstanding_csv",
         "journal_export", "program_staff", "staff_revoke", "program_settings",
         "api:program-detail", "program_imports", "import_template",
         "program_webhooks", "webhook_detail", "webhook_remove", "webhook_redeliver"],
        "program",
    ),
    **dict.fromkeys(["api_token_revoke", "api:token-detail"], "token"),
    "api:artist-detail": "artist",
    **dict.fromkeys(
        ["import_detail", "import_progress", "import_run", "api:import-detail"], "import"
    ),
    **dict.fromkeys(["notification_read", "api:notification-read"], "notification"),
}  # fmt: skip
BY_PARAM = {
    "program_id": "program",
    "card_id": "card",
    "staff_id": "staff",
    "invitation_id": "invitation",
    "webhook_id": "webhook",
    "delivery_id": "delivery",
    "secret": "invitation_secret",
    "uidb64": "uidb64",
    "token": "reset_token",
    "fmt": "fmt",
    "index": "index",
}


def path_params(template) -> list[str]:
    return [_param_name(m) for m in _PARAM.finditer(template)]


def fill(template, values: dict) -> str:
    path = _PARAM.sub(lambda m: quote(str(values[_param_name(m)]), safe=""), template)
    return "/" + path.replace("^", "").replace("$", "")


def test_every_path_parameter_has_a_value():
    missing = [
        (name, param)
        for name, (template, _, _) in ROUTES.items()
        for param in path_params(template)
        if not (param == "pk" and name in PK_OF) and param not in BY_PARAM
    ]
    assert not missing, "say which object fills these path parameters (PK_OF / BY_PARAM)"


# --- The world --------------------------------------------------------------------------------


@pytest.fixture
def world(admin, artist, program):
    """One of everything, visible to the artist and the admin."""
    work = log_feedback(program, artist)
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
    )
    token, _ = issue_token(user=artist, name="t")
    invitation = services.invite(actor=admin, program=program, email="invitee@example.org")
    notification = notify(
        user=artist,
        kind=NotificationKind.PAYOUT_RECORDED,
        message="A grant was recorded",
        subject=payout,
        program=program,
    )
    dispute = open_dispute_about_rejection(program, artist, admin)
    job = imports.start_import(actor=admin, program=program, upload=csv_upload(), dry_run=True)
    webhook = services.create_subscription(
        actor=admin, program=program, url=PLAUSIBLE["url"], events=["contribution.submitted"]
    )
    log_feedback(program, artist)  # a delivery, never sent: nothing commits here
    return {
        "import": job.pk,
        "webhook": webhook.pk,
        "delivery": webhook.deliveries.get().pk,
        "dispute": dispute.pk,
        "notification": notification.pk,
        "contribution": work.pk,
        "payout": payout.pk,
        "program": program.pk,
        "token": token.pk,
        "artist": artist.pk,
        "card": program.rate_cards.get().pk,
        "staff": program.staff_roles.get().pk,
        "invitation": invitation.pk,
        "invitation_secret": invitation.secret,
        # A working password reset link of the artist's.
        "uidb64": urlsafe_base64_encode(force_bytes(artist.pk)),
        "reset_token": default_token_generator.make_token(artist),
        "fmt": "hledger",
        "index": 0,
    }


def kwargs_for(name, template, world) -> dict:
    return {
        param: world[PK_OF[name] if param == "pk" else BY_PARAM[param]]
        for param in path_params(template)
    }


# Plausible values for the other fields of a body, so a hostile field reaches the service.
PLAUSIBLE = {
    "kind": "feedback",
    "title": "t",
    "name": "n",
    "occurred_on": TODAY.isoformat(),
    "paid_on": TODAY.isoformat(),
    "effective_from": TODAY.isoformat(),
    "hours": "1",
    "severity": "low",
    "amount": "1.00",
    "currency": "USD",
    "reason": "r",
    "username": "artist1",
    "email": "a@example.org",
    "url": "https://93.184.215.14/hooks",  # a public address literal: no DNS, never contacted
    "events": ["payout.paid"],
}


# Per route, values that differ from the defaults above (a payout's kind is not a
# contribution's); and submit buttons that change what a form does, never filled in, so the
# other fields reach the step behind them (the pay page's confirm reads its token only there).
PLAUSIBLE_FOR_ROUTE = {
    "payout_new": {"kind": "grant", "confirm": "1"},
    "program_staff": {"role": "reviewer"},
    "program_settings": {"status": "active", "approval_threshold": "10.00"},
}
BUTTONS = {"edit"}


def plausible(key, world, route=None):
    if key in PLAUSIBLE_FOR_ROUTE.get(route, {}):
        return PLAUSIBLE_FOR_ROUTE[route][key]
    if key in ("program", "artist"):
        return world[key]
    if key == "user":  # a role's holder (the staff forms): someone the caller sees
        return world["artist"]
    if key == "bug_bounties":
        return {"low": "1", "medium": "1", "high": "1", "critical": "1"}
    return PLAUSIBLE.get(key, "1")


# --- The sweep --------------------------------------------------------------------------------


class Sweep:
    def __init__(self, name, world):
        self.name = name
        self.template, self.methods, self.is_api = ROUTES[name]
        self.world = world
        self.kwargs = kwargs_for(name, self.template, world)
        self.failures = []
        self.sent = 0

    def send(self, client, method, *, kwargs=None, query=None, body=None):
        """One request; returns the (source, key) pairs it read."""
        path = fill(self.template, kwargs or self.kwargs)
        _reads.clear()
        self.sent += 1
        call = getattr(client, method.lower())
        if method == "GET":
            response = call(path, query or {PROBE: "1"})
        else:
            if query:
                path += "?" + "&".join(f"{quote(k)}={quote(str(v))}" for k, v in query.items())
            if self.is_api:
                response = call(path, body or {PROBE: "1"}, format="json")
            else:
                # Pages take form bodies (the API client would send JSON by default).
                response = call(path, body or {PROBE: "1"}, format="multipart")
        if response.status_code >= 500:
            self.failures.append((method, path[:120], query, body, response.status_code))
        return set(_reads)

    def run(self, client):
        for method in self.methods:
            for param in self.kwargs:
                for value in HOSTILE:
                    self.send(client, method, kwargs={**self.kwargs, param: value})
            seen = self.send(client, method)
            done: set[tuple[str, str]] = set()
            while seen - done:
                source, key = sorted(seen - done)[0]
                done.add((source, key))
                _swept.add(key)
                seen |= self.hostile(client, method, source, key, seen)

    def hostile(self, client, method, source, key, seen):
        body_keys = {k for s, k in seen if s != "query"}
        read = set()
        for value in HOSTILE_JSON if source == "json" else HOSTILE:
            if source == "query":
                read |= self.send(client, method, query={key: value})
            else:
                body = {k: plausible(k, self.world, self.name) for k in body_keys - BUTTONS} | {
                    key: value
                }
                read |= self.send(client, method, body=body)
        return read


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_no_hostile_parameter_is_a_server_error(name, recording, world, admin, artist):
    sweep = Sweep(name, world)
    for user in (None,) if name in CALLER_INDEPENDENT else (None, artist, admin):
        client = APIClient(raise_request_exception=False)  # a 500 is recorded, not raised
        if user is not None:
            client.force_login(User.objects.get(pk=user.pk))
        sweep.run(client)
    assert not sweep.failures, sweep.failures[:5]


# --- Backstop: names read in the sources ------------------------------------------------------

_LITERAL_READ = re.compile(
    r"request\.(?:GET|POST|query_params|data)\s*(?:\.get\(|\.getlist\(|\[)\s*[\"'](\w+)[\"']"
)


def test_every_literal_parameter_name_is_swept(request):
    """Each `request.GET.get("x")`, `query_params["x"]`, `request.data.get("x")` in the
    sources names a parameter the sweep above reached (run after it, in this module)."""
    if not _swept:
        pytest.skip("the sweep did not run in this session (select the whole module)")
    root = Path(__file__).resolve().parents[2]
    names = {
        match.group(1)
        for folder in ("ledger", "accounts")
        for source in (root / folder).rglob("*.py")
        if "migrations" not in source.parts
        for match in _LITERAL_READ.finditer(source.read_text())
    }
    assert names - _swept == set()
