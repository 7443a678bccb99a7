"""Production-mode probe: the app attacked as a penetration tester would, on loopback only.

    python bench/probe.py [--workers 4] [--port 8098] [--no-redis] [--keep]

For each cache configuration — the default (the database cache), then Redis when
`redis://127.0.0.1:6379` answers (database number 13, a random key prefix) — it makes a fresh
PostgreSQL database `ledger_probe_run` (`migrate`, `createcachetable`, `seed_demo`,
`collectstatic` into bench/out/probe-static), starts gunicorn with the project's
`gunicorn.conf.py` (production settings: DJANGO_DEBUG=false, a random secret key, HTTPS
redirects and HSTS behind a TLS proxy that sets `X-Forwarded-Proto`, 4 sync workers), and
sends about 2,500 requests in bounded loops: every attack kind below, each with its
expectations. It prints a Markdown table per run (requests, checks held, checks left open),
then runs `verify_ledger` on the probe database. A 5xx anywhere is a finding, and so is an
expectation not met. Exit 1 on any finding.

Client addresses: the target is always 127.0.0.1; some attacks connect *from* other loopback
addresses (127.0.0.2 … 127.0.0.9, all routed to `lo` on Linux) so that per-address limits
(token creation, login lockout) are measured one attack at a time.
"""

import argparse
import base64
import collections
import concurrent.futures
import contextlib
import datetime
import http.client
import http.cookies
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
OUT = ROOT / "bench" / "out"
PG = os.environ.get("PROBE_PG", "postgres://postgres@127.0.0.1:5432")
DB = "ledger_probe_run"
REDIS = "redis://127.0.0.1:6379/13"
PASSWORD = "ledger-demo-2026"  # seed_demo's published demo password
NEW_PASSWORD = "Probe-new-password-7731"  # a throw-away probe account's

# Tokens for the seeded accounts are issued in-process (token creation over HTTP is throttled
# per address, and the probe measures that limit on its own).
PREPARE = """
import json
from accounts.models import User
from accounts.tokens import issue_token
from ledger.models import Program
users = {u.username: u.pk for u in User.objects.all()}
programs = {p.name: p.pk for p in Program.objects.all()}
tokens = {name: issue_token(user=User.objects.get(username=name), name="probe")[1]
          for name in ("admin", "reviewer", "ada", "bruno", "tala")}
with open(OUT_FILE, "w") as out:
    json.dump({"users": users, "programs": programs, "tokens": tokens}, out)
"""

# A day of work inside seed_demo's rate cards (they start 300 days back).
DAY = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()

DEBUG_PAGE_MARKERS = (b"Traceback", b"URLconf", b"DEBUG = True", b"Django tried these")


# --- bookkeeping ------------------------------------------------------------------------------


class Tally:
    """Requests, checks held and checks left open, per attack kind."""

    def __init__(self):
        self.order = []
        self.requests = collections.Counter()
        self.held = collections.Counter()
        self.open = collections.defaultdict(list)
        self.kind = "setup"
        self.notes = []  # figures worth printing under the table
        self.lock = threading.Lock()

    def start(self, kind):
        self.kind = kind
        if kind not in self.order:
            self.order.append(kind)

    def count(self, kind):
        with self.lock:
            self.requests[kind] += 1

    def check(self, ok, what):
        with self.lock:
            if ok:
                self.held[self.kind] += 1
            else:
                self.open[self.kind].append(what)
        return ok


T = Tally()


class Resp:
    def __init__(self, status, headers, cookies, body):
        self.status = status
        self.headers = headers  # lower-case names
        self.cookies = cookies  # raw Set-Cookie values
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self):
        return self.body.decode("utf-8", "replace")

    def fields(self):
        """The fields a problem+json body names."""
        data = self.json() or {}
        return {e.get("field") for e in data.get("errors") or [] if isinstance(e, dict)}


class Client:
    """One caller: a bearer token or a session (cookies kept by hand: they are Secure-only and
    the probe talks plain HTTP to gunicorn, as a TLS proxy in front would)."""

    def __init__(self, port, *, token=None, src="127.0.0.1", https=True):
        self.port, self.token, self.src, self.https = port, token, src, https
        self.jar = {}

    @property
    def origin(self):
        return f"https://127.0.0.1:{self.port}"

    def request(self, method, path, *, body=None, headers=None, json_body=None, form=None):
        kind = T.kind
        hdrs = {"Host": f"127.0.0.1:{self.port}"}
        if self.https:
            hdrs["X-Forwarded-Proto"] = "https"
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        if self.jar:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            hdrs["Origin"] = self.origin
        if isinstance(body, str):
            body = body.encode()
        hdrs.update(headers or {})
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.src, 0)
        )
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in hdrs.items():
                conn.putheader(name, value)
            if body is not None and "Content-Length" not in hdrs:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            raw = conn.getresponse()
            data = raw.read()
            cookies = raw.headers.get_all("Set-Cookie") or []
            headers_ = {k.lower(): v for k, v in raw.getheaders()}
            resp = Resp(raw.status, headers_, cookies, data)
        finally:
            conn.close()
        T.count(kind)
        for cookie in cookies:
            parsed = http.cookies.SimpleCookie()
            parsed.load(cookie)
            for name, morsel in parsed.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.jar[name] = morsel.value
                else:
                    self.jar.pop(name, None)
        if resp.status >= 500:
            T.check(False, f"{resp.status} on {method} {path[:90]}")
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data=None, **kw):
        if "body" not in kw:  # a raw body is sent as given (malformed JSON, other types)
            kw["json_body"] = data if data is not None else {}
        return self.request("POST", path, **kw)

    def csrf(self, path="/"):
        page = self.get(path)
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        return found.group(1).decode() if found else ""

    def submit(self, path, form, *, page=None, **kw):
        """A page form posted the way a browser does: the token from the page, same origin."""
        return self.request(
            "POST", path, form={"csrfmiddlewaretoken": self.csrf(page or path), **form}, **kw
        )

    def login(self, username, password=PASSWORD):
        return self.submit("/login/", {"username": username, "password": password})


def raw(port, payload: bytes, *, timeout=10):
    """Bytes straight to gunicorn (malformed requests http.client refuses to send)."""
    T.count(T.kind)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    data = b"".join(chunks)
    status = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    head, _, body = data.partition(b"\r\n\r\n")
    return (int(status.group(1)) if status else 0), head, body


def q(value):
    return urllib.parse.quote(value, safe="")


# --- the attacks ------------------------------------------------------------------------------


class Probe:
    def __init__(self, port, ids):
        self.port = port
        self.users = ids["users"]
        self.programs = ids["programs"]
        self.aurora = self.programs["Aurora Early Access"]
        self.kumo = self.programs["Kumo Studio Preview"]
        tok = ids["tokens"]
        self.admin = Client(port, token=tok["admin"])
        self.reviewer = Client(port, token=tok["reviewer"])
        self.ada = Client(port, token=tok["ada"])
        self.bruno = Client(port, token=tok["bruno"])
        self.tala = Client(port, token=tok["tala"])
        self.anon = Client(port)

    def c(self, *args, **kw):
        return Client(self.port, *args, **kw)

    # fixtures made through the API itself
    def setup(self):
        T.start("setup (fixtures through the API)")
        a = self.admin
        made = {}
        for name in ("probe-burst", "probe-writer", "probe-pw", "probe-lock", "probe-settle"):
            r = a.post(
                "/api/v1/artists/",
                {
                    "username": name,
                    "email": f"{name}@example.org",
                    "display_name": name,
                    "password": PASSWORD,
                },
            )
            T.check(r.status == 201, f"create artist {name}: {r.status}")
            made[name] = r.json()["id"]
            r = a.post(f"/api/v1/programs/{self.aurora}/members/", {"artist": made[name]})
            T.check(r.status == 201, f"enrol {name}: {r.status}")
        self.users.update(made)

        def log(client, title, **extra):
            body = {
                "program": self.aurora,
                "kind": "feedback",
                "title": title,
                "occurred_on": time.strftime("%Y-%m-%d"),
                "hours": "2",
                **extra,
            }
            r = client.post("/api/v1/contributions/", body)
            T.check(r.status == 201, f"log work: {r.status} {r.text()[:200]}")
            return r.json()["id"]

        self.ada_submitted = log(self.ada, "ada: submitted")
        self.bruno_submitted = log(self.bruno, "bruno: submitted")
        self.bruno_accepted = log(self.bruno, "bruno: accepted")
        T.check(
            a.post(f"/api/v1/contributions/{self.bruno_accepted}/accept/").status == 200, "accept"
        )
        kumo = self.admin.get(f"/api/v1/contributions/?program={self.kumo}&page_size=1").json()
        self.kumo_contribution = kumo["results"][0]["id"]
        self.settle_work = log(a, "settle: 2 h", artist=made["probe-settle"])
        T.check(a.post(f"/api/v1/contributions/{self.settle_work}/accept/").status == 200, "accept")
        r = a.post(
            "/api/v1/payouts/",
            {
                "artist": self.users["bruno"],
                "program": self.aurora,
                "amount": "1.00",
                "kind": "grant",
                "method": "probe",
            },
        )
        self.bruno_payout = r.json()["id"]
        kp = self.admin.get(f"/api/v1/payouts/?program={self.kumo}&page_size=1").json()
        self.kumo_payout = kp["results"][0]["id"]
        cards = self.admin.get(f"/api/v1/programs/{self.kumo}/rate-cards/").json()
        cards = cards["results"] if isinstance(cards, dict) else cards
        self.kumo_card = cards[0]["id"]
        admin_tokens = self.admin.get("/api/v1/auth/tokens/").json()
        admin_tokens = admin_tokens["results"] if isinstance(admin_tokens, dict) else admin_tokens
        self.admin_token_id = admin_tokens[0]["id"]

    def run(self):
        attacks = [m for m in dir(self) if re.fullmatch(r"a\d\d_\w+", m)]
        for name in sorted(attacks):
            try:
                getattr(self, name)()
            except Exception as error:  # an answer the probe did not expect: left open, go on
                T.check(False, f"probe stopped in {name}: {type(error).__name__}: {error}")

    # 1. throttles ---------------------------------------------------------------------------
    def a01_throttle_token_burst(self):
        T.start("token-creation burst, 130 from one address (limit 30/min, 4 workers)")
        c = self.c(src="127.0.0.2")
        first = None
        created = 0
        for i in range(1, 131):
            r = c.post("/api/v1/auth/tokens/", {"username": "probe-burst", "password": PASSWORD})
            created += r.status == 201
            if r.status == 429 and first is None:
                first = i
                T.check("retry-after" in r.headers, "429 without Retry-After")
        T.notes.append(f"token burst: first 429 at request {first}, {created} tokens created")
        T.check(first == 31, f"first 429 at request {first}, expected 31")
        T.check(created == 30, f"{created} tokens created, expected 30")
        self.burst_first_429 = first

    def a02_throttle_write_burst(self):
        T.start("API write burst, 610 POSTs by one user (limit 600/min)")
        r = self.c(src="127.0.0.3").post(
            "/api/v1/auth/tokens/", {"username": "probe-writer", "password": PASSWORD}
        )
        c = self.c(token=r.json()["token"])
        first = None
        for i in range(1, 611):
            r = c.post("/api/v1/contributions/", {})
            if r.status == 429 and first is None:
                first = i
        T.notes.append(f"write burst: first 429 at write {first}")
        T.check(first == 601, f"first 429 at write {first}, expected 601")
        self.write_first_429 = first

    # 2. non-ASCII digits and other hostile ids --------------------------------------------------
    HOSTILE_IDS = [
        "²",
        "١٢",
        "１",
        "𝟙",
        "9" * 40,
        "-1",
        "0",
        "1e3",
        "0x1",
        " 1",
        "1\x00",
        "",
        "' OR 1=1--",
        "<b>1</b>",
        "javascript:alert(1)",
    ]

    def a03_hostile_ids_pages(self):
        T.start("non-ASCII digits / hostile ids in page parameters")
        artist = self.c(src="127.0.0.1")
        artist.login("ada")
        admin = self.c()
        admin.login("admin")
        p = self.kumo
        for v in self.HOSTILE_IDS:
            for client, path in [
                (artist, f"/contributions/rate-preview/?program={q(v)}&kind=feedback&hours=1"),
                (artist, f"/contributions/?program={q(v)}&page={q(v)}"),
                (admin, f"/programs/{p}/statement/?artist={q(v)}"),
                (admin, f"/programs/{p}/statement.csv?artist={q(v)}"),
                (admin, f"/programs/{p}/statement.pdf?artist={q(v)}"),
                (admin, f"/payouts/?program={q(v)}"),
                (admin, f"/payouts/new/?program={q(v)}&artist={q(v)}"),
                (admin, f"/review/?program={q(v)}&page={q(v)}"),
            ]:
                r = client.get(path)
                T.check(r.status < 500, f"{r.status} on {path}")
            for path in ("/contributions/new/feedback/", "/contributions/new/bug-report/"):
                r = artist.submit(
                    path,
                    {
                        "program": v,
                        "title": "x",
                        "occurred_on": DAY,
                        "hours": "1",
                        "severity": "low",
                    },
                )
                T.check(r.status == 200, f"{r.status} posting program={v!r} to {path}")
        for path in ("/contributions/%D9%A1/", "/programs/%C2%B2/", "/payouts/%EF%BC%91/void/"):
            T.check(admin.get(path).status == 404, f"{path} not a 404")

    def a04_hostile_ids_api(self):
        T.start("non-ASCII digits / hostile ids in API parameters")
        for v in self.HOSTILE_IDS:
            for client, path in [
                (self.ada, f"/api/v1/contributions/?program={q(v)}&artist={q(v)}"),
                (self.admin, f"/api/v1/balances/?artist={q(v)}&program={q(v)}"),
                (self.admin, f"/api/v1/statements/?artist={q(v)}&program={self.aurora}"),
                (self.ada, f"/api/v1/statements/?program={q(v)}"),
                (self.admin, f"/api/v1/ledger/entries/?program={q(v)}&artist={q(v)}"),
                (self.admin, f"/api/v1/ledger/verify/?program={q(v)}"),
                (self.admin, f"/api/v1/ledger/export/?program={q(v)}&format=hledger"),
                (self.admin, f"/api/v1/payouts/?program={q(v)}&artist={q(v)}"),
            ]:
                r = client.get(path)
                T.check(r.status < 500, f"{r.status} on {path}")
            r = self.ada.post(
                "/api/v1/contributions/",
                {
                    "program": v,
                    "kind": "feedback",
                    "title": "x",
                    "occurred_on": DAY,
                    "hours": "1",
                },
            )
            T.check(r.status == 400 and "program" in r.fields(), f"program={v!r}: {r.status}")

    # 3. cursors ----------------------------------------------------------------------------------
    def a05_tampered_cursor(self):
        T.start("tampered ledger cursor")
        b64 = lambda s: q(base64.b64encode(s.encode()).decode())  # noqa: E731
        cursors = [
            b64("p=abc"),
            b64("p=-1"),
            b64("p=" + "9" * 40),
            b64("o=-5"),
            b64("o=abc"),
            b64("r=1&p=1'--"),
            b64("p=²"),
            b64("p=1\x00"),
            b64("r=x"),
        ]
        for cur in cursors:
            for client in (self.admin, self.ada):
                r = client.get(f"/api/v1/ledger/entries/?cursor={cur}")
                T.check(
                    r.status == 400 and "cursor" in r.fields(), f"cursor {cur[:30]}: {r.status}"
                )
        # Text that decodes to no position at all (base64 decoding skips characters outside its
        # alphabet) is the first page, and a huge offset is capped: no error, nothing leaked.
        for cur in ("%%%", "!!!!", "A" * 5000, b64("o=999999999999&p=1")):
            for client in (self.admin, self.ada):
                r = client.get(f"/api/v1/ledger/entries/?cursor={cur}")
                T.check(r.status in (200, 400), f"cursor {cur[:30]}: {r.status}")

    # 4. references -------------------------------------------------------------------------------
    def a06_reference_schemes(self):
        T.start("javascript:/data: references (API and form), links rendered")
        bad = [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "\x01javascript:alert(1)",
        ]
        base = {
            "program": self.aurora,
            "kind": "bug_report",
            "title": "ref",
            "occurred_on": DAY,
            "severity": "low",
        }
        for ref in bad:
            r = self.ada.post("/api/v1/contributions/", {**base, "reference": ref})
            T.check(r.status == 400 and "reference" in r.fields(), f"API {ref!r}: {r.status}")
        page = self.c()
        page.login("ada")
        for ref in bad[:6]:
            r = page.submit(
                "/contributions/new/bug-report/",
                {
                    "program": self.aurora,
                    "title": "ref",
                    "occurred_on": DAY,
                    "severity": "low",
                    "reference": ref,
                },
            )
            # The form shown again (200) with an error; a redirect (302) would mean it was saved.
            T.check(r.status == 200, f"form {ref!r}: {r.status}")
        r = self.ada.post("/api/v1/contributions/", {**base, "reference": "TRACK-12"})
        T.check(r.status == 201, f"plain reference refused: {r.status} {r.text()[:300]}")
        ok = r.json()["id"]
        r = self.ada.post(
            "/api/v1/contributions/", {**base, "reference": "https://tracker.example/12"}
        )
        T.check(r.status == 201, f"https reference refused: {r.status} {r.text()[:300]}")
        link = r.json()["id"]
        admin = self.c()
        admin.login("admin")
        plain = admin.get(f"/contributions/{ok}/").body
        linked = admin.get(f"/contributions/{link}/").body
        T.check(b'href="TRACK-12"' not in plain, "plain reference rendered as a link")
        T.check(b'href="https://tracker.example/12"' in linked, "http(s) reference not a link")
        T.check(b"javascript:" not in plain + linked, "javascript: in a page")

    # 5. dates ------------------------------------------------------------------------------------
    def a07_date_floor(self):
        T.start("dates 0001-01-01 and other out-of-range dates")
        # A later rate card may be added ahead of time (it supersedes from its date), so only
        # dates before the floor or malformed ones are refused for cards; payments and work
        # may not be in the future either.
        future = "9999-12-31"
        for day in (
            "0001-01-01",
            "1999-12-31",
            future,
            "10000-01-01",
            "2026-02-30",
            "2026-13-01",
            "-2026-01-01",
            "2026/01/01",
        ):
            r = self.admin.post(
                "/api/v1/payouts/",
                {
                    "artist": self.users["bruno"],
                    "program": self.aurora,
                    "amount": "1.00",
                    "kind": "grant",
                    "paid_on": day,
                },
            )
            T.check(r.status == 400 and "paid_on" in r.fields(), f"paid_on {day}: {r.status}")
            r = self.admin.post(
                f"/api/v1/programs/{self.aurora}/rate-cards/",
                {
                    "effective_from": day,
                    "hourly_rate": "1.00",
                    "bug_bounties": {"low": "1", "medium": "1", "high": "1", "critical": "1"},
                },
            )
            card_ok = (
                r.status == 201
                if day == future
                else r.status == 400 and "effective_from" in r.fields()
            )
            T.check(card_ok, f"card {day}: {r.status}")
            r = self.ada.post(
                "/api/v1/contributions/",
                {
                    "program": self.aurora,
                    "kind": "feedback",
                    "title": "d",
                    "occurred_on": day,
                    "hours": "1",
                },
            )
            T.check(
                r.status == 400 and "occurred_on" in r.fields(), f"occurred_on {day}: {r.status}"
            )
            r = self.ada.get(f"/api/v1/statements/?program={self.aurora}&from={day}&to={day}")
            T.check(r.status in (200, 400), f"statement from={day}: {r.status}")
        admin = self.c()
        admin.login("admin")
        r = admin.submit(
            "/payouts/new/",
            {
                "program": self.aurora,
                "artist": self.users["bruno"],
                "kind": "grant",
                "amount": "1.00",
                "paid_on": "0001-01-01",
                "method": "",
                "reference": "",
                "note": "",
            },
        )
        T.check(
            r.status == 200 and b"payout_confirm" not in r.body and b"confirmation" not in r.body,
            f"pay form accepted 0001-01-01: {r.status}",
        )

    # 6. invisible titles -------------------------------------------------------------------------
    def a08_invisible_titles(self):
        T.start("titles of invisible characters only (API and form)")
        page = self.c()
        page.login("ada")
        for title in (
            "\u200b",
            "\u200b\u200c\u200d\ufeff",
            "\u2060\u2061",
            " \u00a0\u3000 ",
            "\u202e",
            "\u00ad",
            "\u034f",
            "\ufe0f",
            "\u180b",
            "\u17b4",
            "\U000e0100",
            "\u180e",
            "\u115f",
        ):
            r = self.ada.post(
                "/api/v1/contributions/",
                {
                    "program": self.aurora,
                    "kind": "feedback",
                    "title": title,
                    "occurred_on": DAY,
                    "hours": "1",
                },
            )
            T.check(r.status == 400 and "title" in r.fields(), f"API title {title!a}: {r.status}")
            r = page.submit(
                "/contributions/new/feedback/",
                {"program": self.aurora, "title": title, "occurred_on": DAY, "hours": "1"},
            )
            T.check(r.status == 200, f"form title {title!a}: {r.status} (a redirect = accepted)")

    # 7. tokens after a password change, revoke-all ---------------------------------------------
    def a09_tokens_after_password_change(self):
        T.start("API tokens after a password change / revoke-all")
        src = self.c(src="127.0.0.4")
        token = src.post("/api/v1/auth/tokens/", {"username": "probe-pw", "password": PASSWORD})
        api = self.c(token=token.json()["token"])
        T.check(api.get("/api/v1/me/").status == 200, "fresh token refused")
        page = self.c(src="127.0.0.4")
        page.login("probe-pw")
        r = page.submit(
            "/password/",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )
        T.check(r.status == 302, f"password change: {r.status}")
        r = api.get("/api/v1/me/")
        T.check(r.status == 401, f"token after password change: {r.status}")
        tokens = [
            src.post("/api/v1/auth/tokens/", {"username": "probe-pw", "password": NEW_PASSWORD})
            for _ in range(2)
        ]
        clients = [self.c(token=t.json()["token"]) for t in tokens]
        T.check(all(c.get("/api/v1/me/").status == 200 for c in clients), "new tokens refused")
        r = page.submit("/tokens/revoke-all/", {}, page="/tokens/")
        T.check(r.status == 302, f"revoke-all: {r.status}")
        T.check(all(c.get("/api/v1/me/").status == 401 for c in clients), "token after revoke-all")
        r = src.post("/api/v1/auth/tokens/", {"username": "probe-pw", "password": PASSWORD})
        T.check(r.status == 401, f"old password still issues tokens: {r.status}")

    # 8. caching --------------------------------------------------------------------------------
    def a10_no_store(self):
        T.start("Cache-Control: no-store on tokens and statements")
        r = self.c(src="127.0.0.5").post(
            "/api/v1/auth/tokens/", {"username": "ada", "password": PASSWORD}
        )
        T.check("no-store" in r.headers.get("cache-control", ""), "token creation cacheable")
        page = self.c()
        page.login("ada")
        for client, path in [
            (self.ada, f"/api/v1/statements/?program={self.aurora}"),
            (self.ada, f"/api/v1/statements/?program={self.aurora}&format=csv"),
            (page, f"/programs/{self.aurora}/statement/"),
            (page, f"/programs/{self.aurora}/statement.csv"),
            (page, f"/programs/{self.aurora}/statement.pdf"),
            (page, "/tokens/"),
        ]:
            r = client.get(path)
            T.check(
                r.status == 200 and "no-store" in r.headers.get("cache-control", ""),
                f"{path}: {r.status} cache-control={r.headers.get('cache-control')}",
            )

    # 9. malformed and oversized requests (gunicorn) ----------------------------------------------
    def a11_malformed_headers(self):
        T.start("oversized / malformed request lines and headers")
        host = f"Host: 127.0.0.1:{self.port}\r\n".encode()
        cases = [
            (
                "request line > 8190",
                b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + host + b"\r\n",
                (414, 400),
            ),
            (
                "header field > 8190",
                b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n",
                (431, 400),
            ),
            (
                "101 header fields",
                b"GET / HTTP/1.1\r\n"
                + host
                + b"".join(b"X-%d: 1\r\n" % i for i in range(101))
                + b"\r\n",
                (431, 400),
            ),
            ("garbage request line", b"GARBAGE\r\n\r\n", (400,)),
            ("header without colon", b"GET / HTTP/1.1\r\n" + host + b"NoColonHere\r\n\r\n", (400,)),
            ("bad header name", b"GET / HTTP/1.1\r\n" + host + b"Bad Name: 1\r\n\r\n", (400,)),
            ("NUL in header value", b"GET / HTTP/1.1\r\n" + host + b"X-A: a\x00b\r\n\r\n", (400,)),
            (
                "bad Content-Length",
                b"POST /api/v1/me/ HTTP/1.1\r\n" + host + b"Content-Length: abc\r\n\r\n",
                (400,),
            ),
            (
                "negative Content-Length",
                b"POST /api/v1/me/ HTTP/1.1\r\n" + host + b"Content-Length: -1\r\n\r\n",
                (400,),
            ),
            (
                "two Content-Lengths",
                b"POST /api/v1/me/ HTTP/1.1\r\n"
                + host
                + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                (400,),
            ),
            (
                "CL and chunked TE (smuggling)",
                b"POST /api/v1/me/ HTTP/1.1\r\n"
                + host
                + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                (400,),
            ),
            ("unsupported HTTP version", b"GET / HTTP/9.9\r\n" + host + b"\r\n", (400, 505)),
            ("bad method token", b"G(T / HTTP/1.1\r\n" + host + b"\r\n", (400,)),
        ]
        for name, payload, statuses in cases:
            status, _, body = raw(self.port, payload)
            plain = b"<html" not in body.lower() and b"<!doctype" not in body.lower()
            # 505 is the right answer to an unknown HTTP version: not counted as a 5xx finding.
            T.check(status in statuses and plain, f"{name}: {status} {body[:60]!r}")

    def a12_chunked_body(self):
        T.start("chunked body without Content-Length (API and pages)")
        body = b'{"program": 1}'
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        for path, extra in [
            ("/api/v1/contributions/", f"Authorization: Bearer {self.ada.token}\r\n"),
            ("/api/v1/auth/tokens/", ""),
            ("/login/", ""),
            ("/contributions/new/feedback/", ""),
        ]:
            payload = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"X-Forwarded-Proto: https\r\nContent-Type: application/json\r\n{extra}"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode() + chunked
            status, _, _ = raw(self.port, payload)
            T.check(status in (411, 413), f"chunked POST {path}: {status}")

    # 10. error pages ---------------------------------------------------------------------------
    def a13_error_pages(self):
        T.start("the site's own 404/403 pages, no debug page")
        artist = self.c()
        artist.login("ada")
        for client, path, expected in [
            (self.anon, f"/programs/{self.kumo}/transparency/", (404,)),
            (self.anon, "/no-such-page/", (404,)),
            (self.anon, "/programs/999999/transparency/", (404,)),
            (artist, f"/programs/{self.kumo}/", (404,)),
            (artist, f"/programs/{self.kumo}/statement/", (404,)),
            (artist, f"/contributions/{self.kumo_contribution}/", (404,)),
            (artist, "/review/", (403,)),
            (self.anon, "/api/v1/no-such-thing/", (404,)),
            (self.anon, "/static/no-such-file.css", (404,)),
        ]:
            r = client.get(path)
            leak = any(m in r.body for m in DEBUG_PAGE_MARKERS)
            T.check(r.status in expected and not leak, f"{path}: {r.status}, debug page={leak}")

    # access control ------------------------------------------------------------------------------
    def a14_artist_other_artist_api(self):
        T.start("artist → another artist's data (API)")
        b = self.users["bruno"]
        for path in [
            f"/api/v1/contributions/{self.bruno_submitted}/",
            f"/api/v1/contributions/{self.bruno_accepted}/",
            f"/api/v1/payouts/{self.bruno_payout}/",
            f"/api/v1/artists/{b}/",
            f"/api/v1/statements/?artist={b}&program={self.aurora}",
            f"/api/v1/statements/?artist={b}&program={self.aurora}&format=csv",
        ]:
            r = self.ada.get(path)
            T.check(r.status == 404, f"{path}: {r.status}")
        for path in [
            f"/api/v1/balances/?artist={b}",
            f"/api/v1/contributions/?artist={b}",
            f"/api/v1/payouts/?artist={b}",
            f"/api/v1/ledger/entries/?artist={b}",
            "/api/v1/artists/",
        ]:
            r = self.ada.get(path)
            rows = (r.json() or {}).get("results", []) if r.status == 200 else []
            foreign = [
                x for x in rows if isinstance(x, dict) and b in (x.get("artist"), x.get("id"))
            ]
            T.check(
                r.status in (200, 400, 404) and not foreign,
                f"{path}: {r.status}, {len(foreign)} of bruno's rows",
            )
        r = self.ada.post(f"/api/v1/contributions/{self.bruno_submitted}/withdraw/")
        T.check(r.status == 404, f"withdraw bruno's work: {r.status}")
        r = self.ada.post(
            "/api/v1/contributions/",
            {
                "program": self.aurora,
                "kind": "feedback",
                "title": "for bruno",
                "occurred_on": DAY,
                "hours": "1",
                "artist": b,
            },
        )
        T.check(r.status == 400 and "artist" in r.fields(), f"log for bruno: {r.status}")

    def a15_artist_admin_actions_api(self):
        T.start("artist → admin actions (API)")
        a = self.aurora
        for path, body in [
            (f"/api/v1/contributions/{self.ada_submitted}/accept/", {}),
            (f"/api/v1/contributions/{self.bruno_submitted}/accept/", {}),
            (f"/api/v1/contributions/{self.bruno_submitted}/reject/", {"reason": "x"}),
            (f"/api/v1/contributions/{self.bruno_accepted}/reverse/", {"reason": "x"}),
            (
                "/api/v1/payouts/",
                {"artist": self.users["ada"], "program": a, "amount": "5", "kind": "grant"},
            ),
            (f"/api/v1/payouts/{self.bruno_payout}/void/", {"reason": "x"}),
            ("/api/v1/programs/", {"name": "mine", "currency": "USD"}),
            (
                f"/api/v1/programs/{a}/rate-cards/",
                {
                    "effective_from": "2026-01-01",
                    "hourly_rate": "999",
                    "bug_bounties": {"low": "1", "medium": "1", "high": "1", "critical": "1"},
                },
            ),
            (f"/api/v1/programs/{a}/members/", {"artist": self.users["tala"]}),
            (
                "/api/v1/artists/",
                {
                    "username": "evil",
                    "email": "e@example.org",
                    "display_name": "e",
                    "password": PASSWORD,
                },
            ),
        ]:
            r = self.ada.post(path, body)
            T.check(r.status in (403, 404), f"POST {path}: {r.status}")
        for path in [
            f"/api/v1/ledger/verify/?program={a}",
            f"/api/v1/ledger/export/?program={a}&format=hledger",
            f"/api/v1/exports/outstanding/?program={a}",
            f"/api/v1/exports/payout-batch/?program={a}",
        ]:
            r = self.ada.get(path)
            T.check(r.status in (403, 404), f"GET {path}: {r.status}")
        r = self.admin.get(f"/api/v1/contributions/{self.ada_submitted}/")
        T.check(r.json()["status"] == "submitted", "ada's work changed state")

    def a16_artist_admin_pages(self):
        T.start("artist → admin pages and actions")
        page = self.c()
        page.login("ada")
        a = self.aurora
        for path in [
            "/review/",
            "/payouts/",
            "/payouts/new/",
            "/programs/new/",
            f"/programs/{a}/journal.hledger",
            f"/programs/{a}/outstanding.csv",
            "/payouts/batch.csv",
            f"/programs/{a}/statement/?artist={self.users['bruno']}",
            "/admin/",
            "/admin/accounts/user/",
            "/admin/ledger/payout/",
        ]:
            r = page.get(path)
            T.check(
                r.status in (302, 403, 404) and b"bruno" not in r.body.lower(),
                f"GET {path}: {r.status}",
            )
        for path, form in [
            (f"/contributions/{self.bruno_submitted}/accept/", {}),
            (f"/contributions/{self.ada_submitted}/accept/", {}),
            (f"/contributions/{self.bruno_submitted}/reject/", {"reject-reason": "x"}),
            (f"/contributions/{self.bruno_accepted}/reverse/", {"reverse-reason": "x"}),
            (f"/payouts/{self.bruno_payout}/void/", {"reason": "x"}),
            ("/review/accept/", {"ids": [self.bruno_submitted]}),
            (f"/programs/{a}/rate-cards/", {"effective_from": "2026-01-01", "hourly_rate": "1"}),
            (f"/programs/{a}/members/", {"artist": self.users["tala"]}),
            ("/programs/new/", {"name": "x", "currency": "USD"}),
            (f"/contributions/{self.bruno_submitted}/withdraw/", {}),
        ]:
            r = page.submit(path, form, page="/")
            T.check(r.status in (403, 404), f"POST {path}: {r.status}")
        r = self.admin.get(f"/api/v1/contributions/{self.bruno_submitted}/")
        T.check(r.json()["status"] == "submitted", "bruno's work changed state")

    def a17_anonymous_private(self):
        T.start("anonymous and non-members → private program")
        k = self.kumo
        for path in [
            f"/api/v1/programs/{k}/",
            f"/api/v1/programs/{k}/report/",
            f"/api/v1/programs/{k}/rate-cards/",
            f"/api/v1/programs/{k}/members/",
            f"/api/v1/contributions/?program={k}",
            f"/api/v1/ledger/entries/?program={k}",
            f"/api/v1/balances/?program={k}",
        ]:
            r = self.anon.get(path)
            T.check(r.status in (401, 404), f"anonymous {path}: {r.status}")
            r = self.ada.get(path)
            rows = (r.json() or {}).get("results", []) if r.status == 200 else []
            T.check(
                r.status in (400, 404) or (r.status == 200 and not rows),
                f"ada {path}: {r.status} {len(rows)} rows",
            )
        for path in [
            f"/programs/{k}/transparency/",
            f"/programs/{k}/",
            f"/programs/{k}/statement/",
        ]:
            r = self.anon.get(path)
            T.check(
                r.status in (302, 404) and b"Kumo" not in r.body, f"anonymous {path}: {r.status}"
            )
        r = self.anon.get("/transparency/")
        T.check(r.status == 200 and b"Kumo" not in r.body, "private program listed")
        r = self.anon.get(f"/api/v1/programs/{self.aurora}/report/")
        T.check(r.status == 200, f"public report: {r.status}")

    def a18_idor_every_id_route(self):
        T.start("IDOR: every id route with others' ids (artist tala, Kumo only)")
        t = self.tala
        ids = {
            "contribution": [self.bruno_submitted, self.bruno_accepted, self.ada_submitted],
            "payout": [self.bruno_payout],
            "program": [self.aurora],
            "artist": [self.users["ada"], self.users["admin"]],
            "token": [self.admin_token_id],
        }
        for cid in ids["contribution"]:
            for path in (f"/api/v1/contributions/{cid}/", f"/contributions/{cid}/"):
                T.check(t.get(path).status in (302, 404), f"GET {path}")
            for action in ("accept", "reject", "reverse", "withdraw"):
                r = t.post(f"/api/v1/contributions/{cid}/{action}/", {"reason": "x"})
                T.check(r.status in (403, 404), f"{action} {cid}: {r.status}")
        for pid in ids["payout"]:
            T.check(t.get(f"/api/v1/payouts/{pid}/").status == 404, "payout read")
            T.check(
                t.post(f"/api/v1/payouts/{pid}/void/", {"reason": "x"}).status in (403, 404), "void"
            )
        for pid in ids["program"]:
            r = t.get(f"/api/v1/programs/{pid}/report/")  # Aurora is public: anyone may read it
            T.check(r.status == 200, f"public report to a non-member: {r.status}")
            for path in (
                f"/api/v1/programs/{pid}/",
                f"/api/v1/programs/{pid}/rate-cards/",
                f"/api/v1/programs/{pid}/members/",
                f"/api/v1/statements/?program={pid}",
            ):
                r = t.get(path)
                T.check(r.status in (403, 404), f"{path}: {r.status}")
        for uid in ids["artist"]:
            T.check(t.get(f"/api/v1/artists/{uid}/").status == 404, f"artist {uid}")
        for tid in ids["token"]:
            r = t.request("DELETE", f"/api/v1/auth/tokens/{tid}/")
            T.check(r.status == 404, f"delete admin's token: {r.status}")
            page = self.c()
            page.login("tala")
            r = page.submit(f"/tokens/{tid}/revoke/", {}, page="/tokens/")
            T.check(r.status in (302, 404), f"page revoke of admin's token: {r.status}")
            T.check(self.admin.get("/api/v1/me/").status == 200, "admin's token revoked by tala")
        r = t.get(f"/api/v1/programs/{self.aurora}/rate-cards/{self.kumo_card}/")
        T.check(r.status == 404, f"Kumo's card under Aurora: {r.status}")
        r = self.ada.get(f"/api/v1/programs/{self.kumo}/rate-cards/{self.kumo_card}/")
        T.check(r.status == 404, f"Kumo's card to ada: {r.status}")

    def a19_csrf(self):
        T.start("CSRF on pages and session-authenticated API")
        page = self.c()
        page.login("ada")
        other = self.c()
        foreign_token = other.csrf("/login/")
        form = {"program": self.aurora, "title": "csrf", "occurred_on": DAY, "hours": "1"}
        for path in (
            "/contributions/new/feedback/",
            "/tokens/",
            "/tokens/revoke-all/",
            "/password/",
            "/logout/",
            f"/contributions/{self.ada_submitted}/withdraw/",
        ):
            r = page.request("POST", path, form=form)  # no token
            T.check(r.status == 403, f"no token {path}: {r.status}")
            r = page.request("POST", path, form={**form, "csrfmiddlewaretoken": foreign_token})
            T.check(r.status == 403, f"another session's token {path}: {r.status}")
            token = page.csrf("/")
            r = page.request(
                "POST",
                path,
                form={**form, "csrfmiddlewaretoken": token},
                headers={"Origin": "https://evil.example"},
            )
            T.check(r.status == 403, f"cross-origin {path}: {r.status}")
        r = page.request("POST", "/api/v1/contributions/", json_body={**form, "kind": "feedback"})
        T.check(r.status == 403, f"API with session cookie, no CSRF token: {r.status}")
        T.check(page.get("/api/v1/me/").status == 200, "session lost")

    def a20_sql_injection(self):
        T.start("SQL injection fragments in filters, ids and text")
        frags = [
            "' OR '1'='1",
            "1 OR 1=1",
            "1; DROP TABLE ledger_entry;--",
            "1) UNION SELECT password FROM accounts_user--",
            "%' AND pg_sleep(5)--",
            "\\'; SELECT 1;--",
            "1'||(SELECT version())||'",
        ]
        before = len(self.ada.get("/api/v1/contributions/?page_size=100").json()["results"])
        for f in frags:
            for path in (
                f"/api/v1/contributions/?status={q(f)}",
                f"/api/v1/contributions/?kind={q(f)}",
                f"/api/v1/contributions/?program={q(f)}",
                f"/api/v1/payouts/?kind={q(f)}",
                f"/contributions/?status={q(f)}",
                f"/api/v1/balances/?program={q(f)}",
            ):
                t0 = time.monotonic()
                r = self.ada.get(path) if path.startswith("/api") else self.anon.get(path)
                T.check(r.status < 500 and time.monotonic() - t0 < 4, f"{path}: {r.status}")
                rows = (
                    (r.json() or {}).get("results")
                    if path.startswith("/api/v1/contrib") and r.status == 200
                    else None
                )
                T.check(rows is None or len(rows) <= before, f"{path}: more rows than ada owns")
            r = self.c(src="127.0.0.6").post("/api/v1/auth/tokens/", {"username": f, "password": f})
            T.check(r.status in (400, 401), f"login with {f!r}: {r.status}")
        after = len(self.ada.get("/api/v1/contributions/?page_size=100").json()["results"])
        T.check(after >= before, "rows lost")

    def a21_html_injection(self):
        T.start("HTML / template injection stored and rendered")
        payloads = [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "{{ 7|add:7 }}",
            "{% debug %}",
            "<svg/onload=alert(1)>",
            '=HYPERLINK("https://evil.example")',
        ]
        admin = self.c()
        admin.login("admin")
        for p in payloads:
            r = self.ada.post(
                "/api/v1/contributions/",
                {
                    "program": self.aurora,
                    "kind": "feedback",
                    "title": p,
                    "description": p,
                    "occurred_on": DAY,
                    "hours": "1",
                },
            )
            T.check(
                r.status == 201 and r.json()["title"] == p, f"stored verbatim {p!r}: {r.status}"
            )
            body = admin.get(f"/contributions/{r.json()['id']}/").body
            if p.startswith(("<", '"')):  # markup: must come back escaped, never raw
                T.check(p.encode() not in body, f"rendered unescaped {p!r}")
            else:  # template syntax: shown literally, never evaluated
                T.check(p.replace('"', "&quot;").encode() in body, f"not shown literally {p!r}")
        body = admin.get("/review/").body
        T.check(b"<script>alert(1)</script>" not in body, "review queue renders a script tag")
        csv = admin.get(f"/programs/{self.aurora}/statement.csv?artist={self.users['ada']}").body
        T.check(b"\n=HYPERLINK" not in csv and b",=HYPERLINK" not in csv, "formula in CSV")

    def a22_huge_bodies(self):
        T.start("huge bodies and lying Content-Length (413)")
        big = {
            "program": self.aurora,
            "kind": "feedback",
            "title": "x",
            "description": "a" * (2 << 20),
            "occurred_on": DAY,
            "hours": "1",
        }
        r = self.ada.post("/api/v1/contributions/", big)
        T.check(
            r.status == 413 and "problem+json" in r.headers.get("content-type", ""),
            f"2 MiB JSON: {r.status}",
        )
        page = self.c()
        page.login("ada")
        r = page.submit(
            "/contributions/new/feedback/", {"title": "x", "description": "a" * (3 << 20)}
        )
        T.check(r.status in (400, 413), f"3 MiB form: {r.status}")
        for path in ("/api/v1/contributions/", "/login/"):
            payload = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                "X-Forwarded-Proto: https\r\n"
                f"Authorization: Bearer {self.ada.token}\r\nContent-Type: application/json\r\n"
                "Content-Length: 1000000000000\r\nConnection: close\r\n\r\n{}"
            ).encode()
            t0 = time.monotonic()
            status, _, _ = raw(self.port, payload, timeout=15)
            # 403 on /login/: the CSRF check refuses first; either way the body is never read.
            T.check(
                status in (400, 403, 413) and time.monotonic() - t0 < 10,
                f"lying Content-Length {path}: {status}",
            )
        r = self.ada.post(
            "/api/v1/contributions/",
            None,
            body="[" * 100000 + "]" * 100000,
            headers={"Content-Type": "application/json"},
        )
        T.check(r.status == 400, f"JSON nested 100,000 deep: {r.status}")

    def a23_money_numbers(self):
        T.start("money and hours as JSON numbers, NaN, exponents, too many digits")
        base = {"artist": self.users["bruno"], "program": self.aurora, "kind": "grant"}
        before = len(
            self.admin.get(f"/api/v1/payouts/?artist={self.users['bruno']}&page_size=100").json()[
                "results"
            ]
        )
        for amount in (
            10,
            10.5,
            1e3,
            "1e3",
            "NaN",
            "Infinity",
            "-5",
            "0",
            "1.234",
            "10000000000000000",
            "0x10",
            "１０",
            "10,00",
            " 10 ",
            "",
            None,
            True,
            [],
            {"a": 1},
            "1_000",
        ):
            r = self.admin.post("/api/v1/payouts/", {**base, "amount": amount})
            T.check(r.status == 400 and "amount" in r.fields(), f"amount {amount!r}: {r.status}")
        for hours in (1, "1e1", "NaN", "25", "0", "-1", "1.555", "٣"):
            r = self.ada.post(
                "/api/v1/contributions/",
                {
                    "program": self.aurora,
                    "kind": "feedback",
                    "title": "h",
                    "occurred_on": DAY,
                    "hours": hours,
                },
            )
            T.check(r.status == 400 and "hours" in r.fields(), f"hours {hours!r}: {r.status}")
        for literal in ("NaN", "Infinity", "-Infinity", "1e400", "1" * 5000):
            r = self.admin.post(
                "/api/v1/payouts/",
                None,
                headers={"Content-Type": "application/json"},
                body='{"artist": %d, "program": %d, "kind": "grant", "amount": %s}'  # noqa: UP031
                % (self.users["bruno"], self.aurora, literal),
            )
            T.check(r.status == 400, f"raw JSON amount {literal[:12]}: {r.status}")
        after = len(
            self.admin.get(f"/api/v1/payouts/?artist={self.users['bruno']}&page_size=100").json()[
                "results"
            ]
        )
        T.check(after == before, f"{after - before} payouts written by refused requests")

    def a24_idempotency(self):
        T.start("Idempotency-Key reuse, conflicts and concurrency")
        body = {
            "artist": self.users["bruno"],
            "program": self.aurora,
            "amount": "2.00",
            "kind": "grant",
        }
        key = "probe-" + secrets.token_hex(8)
        h = {"Idempotency-Key": key}
        first = self.admin.post("/api/v1/payouts/", body, headers=h)
        again = self.admin.post("/api/v1/payouts/", body, headers=h)
        T.check(
            first.status == 201
            and again.status == 201
            and again.json()["id"] == first.json()["id"]
            and again.headers.get("idempotent-replayed") == "true",
            "replay differs",
        )
        r = self.admin.post("/api/v1/payouts/", {**body, "amount": "3.00"}, headers=h)
        T.check(r.status == 422, f"same key, other body: {r.status}")
        r = self.admin.post("/api/v1/contributions/", {}, headers=h)
        T.check(r.status == 422, f"same key, other path: {r.status}")
        r = self.reviewer.post("/api/v1/payouts/", body, headers=h)
        T.check(
            r.status == 201 and r.json()["id"] != first.json()["id"], "key not scoped to caller"
        )
        for bad in ("", "k" * 256):
            r = self.admin.post("/api/v1/payouts/", body, headers={"Idempotency-Key": bad})
            T.check(r.status == 400, f"key of {len(bad)} chars: {r.status}")
        key2 = "probe-race-" + secrets.token_hex(8)

        def send(_):
            return self.admin.post(
                "/api/v1/payouts/", {**body, "amount": "4.00"}, headers={"Idempotency-Key": key2}
            )

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            results = list(pool.map(send, range(10)))
        ids = {r.json()["id"] for r in results if r.status == 201}
        T.check(
            len(ids) == 1 and all(r.status in (201, 409) for r in results),
            f"10 concurrent same-key: {sorted(r.status for r in results)}, {len(ids)} payouts",
        )

    def a25_concurrent_settlements(self):
        T.start("20 concurrent settlements against 105.00 owed (10.00 each)")
        artist = self.users["probe-settle"]
        bal = self.admin.get(f"/api/v1/balances/?artist={artist}&program={self.aurora}").json()[
            "results"
        ][0]
        T.check(bal["outstanding"] == "105.00", f"outstanding {bal['outstanding']}")
        body = {"artist": artist, "program": self.aurora, "amount": "10.00", "kind": "settlement"}
        barrier = threading.Barrier(20)

        def send(i):
            barrier.wait()
            return self.admin.post(
                "/api/v1/payouts/",
                body,
                headers={"Idempotency-Key": f"settle-{i}-{secrets.token_hex(4)}"},
            )

        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            results = list(pool.map(send, range(20)))
        ok = sum(r.status == 201 for r in results)
        refused = sum(
            r.status == 409 and (r.json() or {}).get("code") == "insufficient_balance"
            for r in results
        )
        busy = sum(r.status == 503 for r in results)
        T.notes.append(f"settlements: {ok} paid, {refused} refused (409), {busy} busy (503)")
        T.check(ok == 10 and refused + busy == 10, f"{ok} paid, {refused} refused, {busy} busy")
        bal = self.admin.get(f"/api/v1/balances/?artist={artist}&program={self.aurora}").json()[
            "results"
        ][0]
        T.check(bal["outstanding"] == "5.00", f"outstanding after: {bal['outstanding']}")
        r = self.admin.post("/api/v1/payouts/", {**body, "amount": "5.01"})
        T.check(r.status == 409, f"settle 5.01 of 5.00: {r.status}")
        self.settled = (ok, refused, busy)

    def a26_page_double_confirm(self):
        T.start("pay page: one confirmation token sent 8 times at once")
        admin = self.c()
        admin.login("admin")
        form = {
            "program": self.aurora,
            "artist": self.users["bruno"],
            "kind": "grant",
            "amount": "7.77",
            "paid_on": time.strftime("%Y-%m-%d"),
            "method": "probe",
            "reference": "",
            "note": "",
        }
        review = admin.submit("/payouts/new/", form)
        token = re.search(rb'name="confirmation" value="([^"]+)"', review.body)
        csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', review.body)
        T.check(bool(token and csrf), "no confirm step")
        if not (token and csrf):
            return
        before = self.admin.get(
            f"/api/v1/payouts/?artist={self.users['bruno']}&page_size=100"
        ).json()["results"]
        full = {
            **form,
            "confirm": "1",
            "confirmation": token.group(1).decode(),
            "csrfmiddlewaretoken": csrf.group(1).decode(),
        }

        def send(_):
            return admin.request("POST", "/payouts/new/", form=full)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(send, range(8)))
        after = self.admin.get(
            f"/api/v1/payouts/?artist={self.users['bruno']}&page_size=100"
        ).json()["results"]
        new = [p for p in after if p["amount"] == "7.77"]
        T.check(
            len(after) - len(before) == 1 and len(new) == 1,
            f"{len(after) - len(before)} payouts from one confirmation",
        )
        T.check(
            all(r.status in (200, 302) for r in results),
            f"statuses {sorted(r.status for r in results)}",
        )

    def a27_security_headers(self):
        T.start("security headers (CSP, HSTS over HTTPS, XFO, nosniff, referrer, COOP)")
        page = self.c()
        page.login("ada")
        for client, path in [
            (self.anon, "/login/"),
            (page, "/"),
            (page, f"/programs/{self.aurora}/statement/"),
            (self.anon, "/no-such-page/"),
            (self.ada, "/api/v1/me/"),
            (self.anon, "/api/v1/me/"),
            (self.anon, "/api/v1/docs/"),
            (self.anon, "/transparency/"),
            (self.anon, f"/programs/{self.aurora}/transparency/"),
        ]:
            r = client.get(path)
            h = r.headers
            csp = h.get("content-security-policy", "")
            T.check(
                "default-src" in csp
                and "'unsafe-inline'" not in csp.split("script-src")[-1].split(";")[0],
                f"{path}: CSP {csp[:80]!r}",
            )
            T.check("max-age=" in h.get("strict-transport-security", ""), f"{path}: no HSTS")
            T.check(h.get("x-frame-options") == "DENY", f"{path}: XFO {h.get('x-frame-options')}")
            T.check(h.get("x-content-type-options") == "nosniff", f"{path}: nosniff")
            T.check(h.get("referrer-policy") == "same-origin", f"{path}: referrer policy")
            T.check(h.get("cross-origin-opener-policy") == "same-origin", f"{path}: COOP")

    def a28_https_and_cookies(self):
        T.start("plain HTTP redirected; cookie flags; session id rotated at login")
        plain = self.c(https=False)
        for path in ("/", "/login/", "/api/v1/me/", f"/programs/{self.aurora}/transparency/"):
            r = plain.get(path)
            T.check(
                r.status == 301 and r.headers.get("location", "").startswith("https://"),
                f"http {path}: {r.status}",
            )
        T.check(plain.get("/healthz").status == 200, "healthz over plain HTTP")
        c = self.c()
        c.csrf("/login/")
        c.jar["sessionid"] = "attacker-chosen-session-id"
        r = c.submit("/login/", {"username": "ada", "password": PASSWORD})
        cookies = " | ".join(r.cookies)
        T.check(
            c.jar.get("sessionid") not in (None, "attacker-chosen-session-id"),
            "session id not rotated",
        )
        sess = [x for x in r.cookies if x.startswith("sessionid=")]
        T.check(
            bool(sess) and all(f in sess[0] for f in ("Secure", "HttpOnly", "SameSite=Lax")),
            f"session cookie: {cookies[:200]}",
        )
        csrf = [
            x for x in r.cookies + self.c().get("/login/").cookies if x.startswith("csrftoken=")
        ]
        T.check(bool(csrf) and "Secure" in csrf[0], "csrftoken cookie not Secure")
        r = c.get("/logout/")
        T.check(r.status == 405, f"logout by GET: {r.status}")

    def same_site(self, location):
        """Where a browser would go: no other host, no other scheme (`/%2F%2Fx` is a path)."""
        if location.startswith(("//", "/\\")) or "\\" in location[:3]:
            return False
        parts = urllib.parse.urlsplit(location)
        return parts.scheme in ("", "https") and parts.netloc in ("", f"127.0.0.1:{self.port}")

    def a29_open_redirects(self):
        T.start("open redirects via next=")
        targets = [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "http://127.0.0.1:1/",
            "///evil.example",
            "/%2F%2Fevil.example",
            "https://127.0.0.1@evil.example/",
        ]
        for t in targets:
            c = self.c()
            r = c.submit(
                f"/login/?next={q(t)}", {"username": "bruno", "password": PASSWORD, "next": t}
            )
            loc = r.headers.get("location", "")
            T.check(r.status == 302 and self.same_site(loc), f"login next={t!r} → {loc!r}")
            mine = self.bruno.post(
                "/api/v1/contributions/",
                {
                    "program": self.aurora,
                    "kind": "feedback",
                    "title": "redirect",
                    "occurred_on": DAY,
                    "hours": "1",
                },
            ).json()["id"]
            r = c.submit(f"/contributions/{mine}/withdraw/?next={q(t)}", {"next": t}, page="/")
            loc = r.headers.get("location", "")
            T.check(r.status == 302 and self.same_site(loc), f"withdraw next={t!r} → {loc!r}")
        r = self.anon.get("/login/", headers={"Host": "evil.example"})
        T.check(r.status == 400, f"Host: evil.example → {r.status}")
        r = self.anon.get("/", headers={"X-Forwarded-Host": "evil.example"})
        T.check("evil" not in r.headers.get("location", ""), "X-Forwarded-Host used")
        r = self.admin.get(
            "/api/v1/contributions/?page_size=1", headers={"X-Forwarded-Host": "evil.example"}
        )
        T.check(
            "evil" not in str((r.json() or {}).get("next")),
            f"X-Forwarded-Host in API links: {r.status}",
        )

    def a30_lockout_across_workers(self):
        T.start("login lockout (django-axes) across 4 workers, forged X-Forwarded-For")
        src = "127.0.0.7"
        for i in range(10):
            c = self.c(src=src)  # a new connection each time: spread over the workers
            r = c.login("probe-lock", f"wrong-password-{i}")
            # The form again after failures 1-9; the 10th failure reaches the limit: 429.
            T.check(r.status == (429 if i == 9 else 200), f"failed login {i + 1}: {r.status}")
        r = self.c(src=src).login("probe-lock", PASSWORD)
        T.check(
            r.status == 429 and "retry-after" in r.headers,
            f"right password after 10 failures: {r.status}",
        )
        r = self.c(src=src).login(
            "probe-lock",
            PASSWORD,
        )
        T.check(r.status == 429, f"again: {r.status}")
        c = self.c(src=src)
        r = c.submit(
            "/login/",
            {"username": "probe-lock", "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        T.check(r.status == 429, f"forged X-Forwarded-For: {r.status}")
        r = self.c(src=src).post(
            "/api/v1/auth/tokens/", {"username": "probe-lock", "password": PASSWORD}
        )
        T.check(r.status in (401, 429), f"API token for the locked user: {r.status}")
        r = self.c(src=src).post("/admin/login/", None, body="")
        T.check(r.status in (302, 403, 429, 200), f"admin login: {r.status}")
        # API failures count too: 10 wrong passwords on the token endpoint from another address.
        src2 = "127.0.0.8"
        for i in range(10):
            self.c(src=src2).post(
                "/api/v1/auth/tokens/", {"username": "probe-lock", "password": f"no-{i}"}
            )
        r = self.c(src=src2).post(
            "/api/v1/auth/tokens/", {"username": "probe-lock", "password": PASSWORD}
        )
        T.check(r.status in (401, 403, 429), f"API lockout after 10 API failures: {r.status}")

    def a31_static_traversal(self):
        T.start("path traversal and hidden files under /static/")
        for path in [
            "/static/../ledger/settings.py",
            "/static/%2e%2e/%2e%2e/etc/passwd",
            "/static/..%2f..%2fmanage.py",
            "/static/css/..%2f..%2f..%2fledger%2fsettings.py",
            "/static/%252e%252e/%252e%252e/etc/passwd",
            "/static/....//....//etc/passwd",
            "/static/..\\..\\ledger\\settings.py",
            "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
            "/static/.git/config",
            "/static//etc/passwd",
            "/static/%00",
            "/media/../manage.py",
            "/.env",
            "/.git/HEAD",
            "/manage.py",
        ]:
            r = self.anon.get(path)
            leak = any(
                m in r.body for m in (b"SECRET_KEY", b"root:x:", b"DJANGO_SETTINGS", b"[core]")
            )
            T.check(
                r.status in (301, 302, 400, 404) and not leak, f"{path}: {r.status} leak={leak}"
            )

    def a32_method_tampering(self):
        T.start("HTTP method tampering")
        for method, path, ok in [
            ("TRACE", "/", (302, 405, 400, 403)),
            ("TRACE", "/api/v1/me/", (405, 400)),
            ("PUT", f"/api/v1/programs/{self.aurora}/rate-cards/{self.kumo_card}/", (404, 405)),
            ("PATCH", f"/api/v1/contributions/{self.bruno_accepted}/", (403, 404, 405)),
            ("DELETE", f"/api/v1/contributions/{self.bruno_accepted}/", (403, 404, 405)),
            ("DELETE", f"/api/v1/payouts/{self.bruno_payout}/", (403, 404, 405)),
            ("PUT", "/api/v1/me/", (405,)),
            ("DELETE", f"/api/v1/programs/{self.aurora}/", (403, 405)),
            ("FOO", "/api/v1/me/", (405, 400)),
            ("PROPFIND", "/", (405, 400, 403)),
            ("GET", f"/api/v1/contributions/{self.bruno_submitted}/accept/", (405, 404)),
            ("OPTIONS", "/api/v1/payouts/", (200, 405)),
            ("HEAD", "/api/v1/me/", (200,)),
        ]:
            r = self.ada.request(method, path)
            T.check(
                r.status in ok and b"Authorization" not in r.body, f"{method} {path}: {r.status}"
            )
        for override in ("DELETE", "PUT", "PATCH"):
            r = self.ada.post(
                f"/api/v1/contributions/{self.ada_submitted}/",
                {},
                headers={"X-HTTP-Method-Override": override},
            )
            T.check(
                r.status in (403, 404, 405), f"POST + X-HTTP-Method-Override {override}: {r.status}"
            )
        page = self.c()
        page.login("admin")
        for method in ("PUT", "DELETE", "PATCH"):
            r = page.request(method, f"/contributions/{self.bruno_submitted}/accept/")
            T.check(r.status in (403, 405), f"page {method} accept: {r.status}")
        T.check(
            self.admin.get(f"/api/v1/contributions/{self.bruno_submitted}/").json()["status"]
            == "submitted",
            "state changed",
        )

    def a33_bad_tokens(self):
        T.start("forged, malformed and revoked bearer tokens")
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer x",
            "Bearer " + "A" * 8000,
            "Bearer \u00e9",
            "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode(),
            "Token " + self.admin.token,
            "bearer " + self.admin.token[:-1] + "x",
            "Bearer " + self.admin.token + " extra",
            "Bearer ' OR 1=1--",
        ]:
            r = self.anon.get(
                "/api/v1/me/", headers={"Authorization": value.encode("utf-8").decode("latin-1")}
            )
            T.check(
                (r.status == 401 and "www-authenticate" in r.headers) or r.status == 400,
                f"{value[:20]!r}: {r.status}",
            )
        r = self.c(src="127.0.0.9").post(
            "/api/v1/auth/tokens/", {"username": "bruno", "password": PASSWORD}
        )
        tok = r.json()
        c = self.c(token=tok["token"])
        T.check(c.get("/api/v1/me/").status == 200, "new token")
        T.check(
            c.request("DELETE", f"/api/v1/auth/tokens/{tok['id']}/").status == 204, "delete token"
        )
        T.check(c.get("/api/v1/me/").status == 401, "revoked token still works")
        listed = self.bruno.get("/api/v1/auth/tokens/").text()
        T.check(
            tok["token"] not in listed and "hash" not in listed, "secret or hash in the token list"
        )

    def a34_mass_assignment(self):
        T.start("mass assignment of status, value, reviewer, ids")
        r = self.ada.post(
            "/api/v1/contributions/",
            {
                "program": self.aurora,
                "kind": "feedback",
                "title": "m",
                "occurred_on": DAY,
                "hours": "1",
                "status": "accepted",
                "value": "999.00",
                "reviewed_by": self.users["admin"],
                "id": 1,
                "currency": "JPY",
                "submitted_at": "2020-01-01T00:00:00Z",
            },
        )
        d = r.json()
        T.check(
            r.status == 201
            and d["status"] == "submitted"
            and d["value"] is None
            and d["reviewed_by"] is None
            and d["currency"] == "USD"
            and d["id"] != 1,
            f"mass assignment: {d}",
        )
        r = self.admin.post(
            "/api/v1/payouts/",
            {
                "artist": self.users["bruno"],
                "program": self.aurora,
                "amount": "1.00",
                "kind": "grant",
                "status": "void",
                "currency": "JPY",
                "created_by": self.users["ada"],
            },
        )
        d = r.json()
        T.check(
            r.status == 201
            and d["status"] != "void"
            and d["currency"] == "USD"
            and d["created_by"] != self.users["ada"],
            f"payout: {d}",
        )
        r = self.ada.request("PATCH", "/api/v1/me/", json_body={"role": "admin"})
        T.check(
            r.status in (403, 405) and self.ada.get("/api/v1/me/").json()["role"] == "artist",
            f"role change: {r.status}",
        )

    def a35_state_machine(self):
        T.start("invalid state transitions")
        c = self.bruno_accepted
        T.check(self.admin.post(f"/api/v1/contributions/{c}/accept/").status == 409, "accept twice")
        T.check(
            self.admin.post(f"/api/v1/contributions/{c}/reject/", {"reason": "x"}).status == 409,
            "reject accepted",
        )
        T.check(
            self.bruno.post(f"/api/v1/contributions/{c}/withdraw/").status == 409,
            "withdraw accepted",
        )
        T.check(
            self.admin.post(
                f"/api/v1/contributions/{self.bruno_submitted}/reverse/", {"reason": "x"}
            ).status
            == 409,
            "reverse submitted",
        )
        T.check(
            self.admin.post(f"/api/v1/contributions/{c}/reverse/", {"reason": ""}).status == 400,
            "reverse without reason",
        )
        T.check(
            self.admin.post(f"/api/v1/contributions/{c}/reverse/", {"reason": "\u200b"}).status
            == 400,
            "invisible reason",
        )
        r = self.admin.post(
            "/api/v1/payouts/",
            {
                "artist": self.users["bruno"],
                "program": self.aurora,
                "amount": "1.00",
                "kind": "grant",
            },
        )
        pid = r.json()["id"]
        T.check(
            self.admin.post(f"/api/v1/payouts/{pid}/void/", {"reason": "probe"}).status == 200,
            "void",
        )
        T.check(
            self.admin.post(f"/api/v1/payouts/{pid}/void/", {"reason": "probe"}).status == 409,
            "void twice",
        )

    def a36_pagination_abuse(self):
        T.start("pagination abuse (page_size, page, cursor-less lists)")
        for v in ("1000000000", "-1", "0", "abc", "²", "1e9", "99999999999999999999999"):
            for path in (
                f"/api/v1/contributions/?page_size={q(v)}",
                f"/api/v1/ledger/entries/?page_size={q(v)}",
                f"/api/v1/payouts/?page_size={q(v)}&page={q(v)}",
                f"/api/v1/balances/?page={q(v)}",
            ):
                r = self.admin.get(path)
                rows = (r.json() or {}).get("results") if r.status == 200 else []
                T.check(
                    r.status in (200, 400, 404) and len(rows or []) <= 1000,
                    f"{path}: {r.status} {len(rows or [])} rows",
                )
        page = self.c()
        page.login("admin")
        for v in ("0", "-1", "99999999", "²", "abc", "1" * 50):
            r = page.get(f"/review/?page={q(v)}")
            T.check(r.status == 200, f"/review/?page={v}: {r.status}")

    def a37_unicode_and_encoding(self):
        T.start("NUL, lone surrogates, bad UTF-8, RTL override")
        base = {
            "program": self.aurora,
            "kind": "feedback",
            "occurred_on": DAY,
            "hours": "1",
        }
        for title, want in [
            ("a\x00b", 400),
            ("\u202eevil", 201),
            ("e\u0301" * 10, 201),
            ("😀" * 50, 201),
            ("x" * 201, 400),
        ]:
            r = self.ada.post("/api/v1/contributions/", {**base, "title": title})
            T.check(r.status == want, f"title {title[:10]!r}: {r.status}")
        for body in (
            b'{"title": "\\ud800", "program": 1}',
            b'{"title": "\xff\xfe"}',
            b"\xc0\xaf",
            b'{"a":1,"a":2}',
            b"[]",
            b'"x"',
            b"null",
        ):
            r = self.ada.post(
                "/api/v1/contributions/",
                None,
                body=body,
                headers={"Content-Type": "application/json"},
            )
            T.check(r.status == 400, f"body {body[:20]!r}: {r.status}")
        for path in (
            "/api/v1/contributions/?status=%ff%fe",
            "/contributions/?status=%ff",
            "/api/v1/statements/?from=%00",
            "/transparency/?q=%ff",
            f"/programs/{self.aurora}/transparency/?x=%ff%ff",
        ):
            r = self.ada.get(path) if "/api/" in path else self.anon.get(path)
            T.check(r.status < 500, f"{path}: {r.status}")

    def a38_content_types(self):
        T.start("content-type confusion on the API")
        body = json.dumps(
            {
                "program": self.aurora,
                "kind": "feedback",
                "title": "ct",
                "occurred_on": DAY,
                "hours": "1",
            }
        )
        for ctype in (
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/yaml",
            "",
        ):
            r = self.ada.post(
                "/api/v1/contributions/", None, body=body, headers={"Content-Type": ctype or None}
            )
            T.check(r.status in (400, 415), f"Content-Type {ctype!r}: {r.status}")
        r = self.ada.get("/api/v1/me/", headers={"Accept": "text/html"})
        T.check(
            r.status in (200, 406) and b"<html" not in r.body.lower(),
            f"Accept text/html: {r.status}",
        )
        r = self.ada.get(f"/api/v1/statements/?program={self.aurora}&format=xml")
        T.check(r.status in (400, 404), f"format=xml: {r.status}")
        r = self.admin.get(f"/api/v1/ledger/export/?program={self.aurora}&format=../../etc/passwd")
        T.check(r.status == 400, f"export format traversal: {r.status}")
        page = self.c()
        page.login("admin")
        for fmt in ("exe", "..", "hledger%00", "beancount.bak"):
            r = page.get(f"/programs/{self.aurora}/journal.{fmt}")
            T.check(r.status in (400, 404), f"journal.{fmt}: {r.status}")

    def a39_info_leaks(self):
        T.start("information leaks (versions, hashes, other users, schema)")
        r = self.anon.get("/api/v1/schema/")
        T.check(r.status in (200, 401, 403), f"schema: {r.status}")
        r = self.admin.get("/api/v1/artists/?page_size=100")
        T.check(
            b"pbkdf2" not in r.body and b"password" not in r.body, "password hashes in /artists/"
        )
        r = self.anon.get("/healthz")
        T.check(
            r.status == 200 and b"postgres" not in r.body.lower() and len(r.body) < 500,
            "healthz details",
        )
        r = self.ada.get("/api/v1/me/")
        T.check(
            "x-powered-by" not in r.headers and "django" not in r.headers.get("server", "").lower(),
            "framework banner",
        )
        for path in ("/admin/", "/admin/login/"):
            r = self.anon.get(path)
            T.check(r.status in (200, 302) and b"Traceback" not in r.body, f"{path}: {r.status}")
        r = self.anon.post(
            "/api/v1/auth/tokens/", {"username": "nobody-" + secrets.token_hex(3), "password": "x"}
        )
        r2 = self.anon.post("/api/v1/auth/tokens/", {"username": "ada", "password": "wrong"})
        T.check(
            r.status == r2.status == 401 and r.json()["detail"] == r2.json()["detail"],
            "user enumeration by message",
        )

    def a40_statement_dates(self):
        T.start("statement and export date/format parameters")
        page = self.c()
        page.login("ada")
        for frm, to in [
            ("2026-12-31", "2026-01-01"),
            ("2026-02-30", ""),
            ("x", "y"),
            ("9999-99-99", ""),
            ("2026-01-01T00:00", ""),
            ("", "0001-01-01"),
            ("²", "²"),
        ]:
            r = self.ada.get(f"/api/v1/statements/?program={self.aurora}&from={q(frm)}&to={q(to)}")
            T.check(r.status in (200, 400), f"API from={frm} to={to}: {r.status}")
            r = page.get(f"/programs/{self.aurora}/statement/?date_from={q(frm)}&date_to={q(to)}")
            T.check(r.status in (200, 400), f"page from={frm} to={to}: {r.status}")
            r = page.get(
                f"/programs/{self.aurora}/statement.pdf?date_from={q(frm)}&date_to={q(to)}"
            )
            T.check(r.status in (200, 302, 400), f"pdf from={frm} to={to}: {r.status}")
        admin = self.c()
        admin.login("admin")
        for v in ("0001-01-01", "²", "x"):
            r = admin.get(f"/payouts/batch.csv?program={self.aurora}&paid_on={q(v)}")
            T.check(r.status in (200, 302, 400), f"batch.csv paid_on={v}: {r.status}")


# --- running ----------------------------------------------------------------------------------


def run(*cmd, env=None, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, env=env, cwd=ROOT, **kw)


def redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def one_run(label, args, extra_env):
    global T
    T = Tally()
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=f"{PG}/{DB}",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # Production behind a TLS proxy that sets X-Forwarded-Proto: redirects and HSTS on.
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        DJANGO_STATIC_ROOT=str(OUT / "probe-static"),
        DJANGO_CONN_MAX_AGE="60",
        # The probe signs staff in with a password alone; the second factor has its own tests.
        LEDGER_STAFF_REQUIRE_2FA="false",
        LEDGER_CACHE_KEY_PREFIX="probe-" + secrets.token_hex(4),
        WEB_CONCURRENCY=str(args.workers),
        BIND=f"127.0.0.1:{args.port}",
        GUNICORN_LOG_LEVEL="warning",
        **extra_env,
    )
    run("psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB}")
    run("psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DB}")
    run(PY, "manage.py", "migrate", "-v0", env=env)
    run(PY, "manage.py", "createcachetable", env=env)
    run(PY, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    run(PY, "manage.py", "seed_demo", env=env, stdout=subprocess.DEVNULL)
    ids_file = OUT / "probe-ids.json"
    run(PY, "manage.py", "shell", "-c", PREPARE.replace("OUT_FILE", repr(str(ids_file))), env=env)
    ids = json.loads(ids_file.read_text())
    log = open(OUT / f"probe-gunicorn-{label}.log", "w")  # noqa: SIM115 - open while it runs
    server = subprocess.Popen(
        [str(GUNICORN), "ledger.wsgi", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    started = time.time()
    try:
        for _ in range(120):
            try:
                http.client.HTTPConnection("127.0.0.1", args.port, timeout=2).request(
                    "GET", "/healthz"
                )
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(1)
        probe = Probe(args.port, ids)
        probe.setup()
        probe.run()
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    elapsed = time.time() - started
    verify = subprocess.run(
        [str(PY), "manage.py", "verify_ledger"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    errors_logged = sum(
        any(m in line for m in ("Internal Server Error", "[ERROR]", "[CRITICAL]", "WORKER TIMEOUT"))
        for line in (OUT / f"probe-gunicorn-{label}.log").read_text().splitlines()
    )
    report(label, args, elapsed, verify, errors_logged)
    opened = sum(len(v) for v in T.open.values())
    return opened + (verify.returncode != 0) + errors_logged


def report(label, args, elapsed, verify, errors_logged):
    total_req = sum(T.requests.values())
    total_held = sum(T.held.values())
    total_open = sum(len(v) for v in T.open.values())
    print(f"\n### {label}: gunicorn {args.workers} workers, PostgreSQL, {elapsed:.0f} s\n")
    print("| # | attack kind | requests | checks held | left open |")
    print("|---:|---|---:|---:|---:|")
    for i, kind in enumerate(T.order):
        print(f"| {i} | {kind} | {T.requests[kind]} | {T.held[kind]} | {len(T.open[kind])} |")
    print(f"| | **total** | **{total_req}** | **{total_held}** | **{total_open}** |")
    for kind in T.order:
        for what in T.open[kind]:
            print(f"- OPEN [{kind}] {what}")
    for note in T.notes:
        print(f"- {note}")
    print(f"\nerrors in the server log: {errors_logged}")
    print(verify.stdout.strip() or verify.stderr.strip())
    print(f"verify_ledger exit {verify.returncode}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=8098)
    ap.add_argument("--no-redis", action="store_true")
    ap.add_argument("--only", choices=("database", "redis"))
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    failures = 0
    if args.only != "redis":
        failures += one_run("database cache", args, {})
    if args.only == "redis" or (not args.no_redis and args.only is None):
        if redis_answers():
            failures += one_run("Redis cache", args, {"REDIS_URL": REDIS})
        else:
            print("\nRedis does not answer on 127.0.0.1:6379: the Redis run is skipped.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
