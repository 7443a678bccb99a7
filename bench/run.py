#!/usr/bin/env python3
"""Performance harness: every figure as a ratio, in one run, on PostgreSQL.

    python bench/run.py --postings 1000000        # or: make bench

Runs in its own venv, `bench/.venv` (made here on first use from `bench/requirements.txt`), so
the peer, django-hordak, never enters the project's venv. Each run drops and re-creates the
database `ledger_bench_run` (`--db`), migrates it with `manage.py migrate`, builds the ledger
with COPY (bench/dataset.py) and measures, against the raw database and against hordak:

1. posting: the services (`accept_contribution`, `record_payout`) vs raw psycopg doing the
   same rows per transaction, vs hordak's `Account.transfer_to`;
2. balance reads: `ledger.queries.payable_balance_minor` vs a raw primary-key read, vs
   hordak's `Account.get_balance()` over an account with `--hordak-legs` legs; at two ledger
   sizes (`--small` postings, then `--postings` in all) to show it stays flat;
3. the API under load: `bench_api()` starts gunicorn (2 workers) and measures p50/p95 and
   req/s of URLs against a trivial JSON view (`bench/urls.py`); `--api-url`/`--api-token`
   add the REST endpoints;
4. verify: `ledger.verify.verify_program` postings/s vs a raw SQL sum of the same postings;
   `bench_export()` is the hook for the streaming journal export.

Results go to stdout (a Markdown table) and to `bench/out/results.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
OUT = BENCH / "out"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


# --- the bench venv ------------------------------------------------------------------------


def _requirements_stamp() -> str:
    digest = hashlib.sha256()
    for name in (BENCH / "requirements.txt", ROOT / "requirements.txt"):
        digest.update(name.read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    """Re-run this script inside bench/.venv, creating or updating it first."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    stamp = VENV / ".requirements.sha256"
    wanted = _requirements_stamp()
    if not python.exists():
        print(f"bench: creating {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        print("bench: installing bench/requirements.txt into the bench venv", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")],
            check=True,
        )
        stamp.write_text(wanted)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


# --- small timing helpers ------------------------------------------------------------------


def timed(fn, n: int, warmup: int = 0) -> list[float]:
    """Call fn(i) n times after `warmup` calls; return each call's seconds."""
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(warmup + i)
        out.append(time.perf_counter() - t)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


class Table:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []
        self.data: dict[str, object] = {}

    def add(self, area: str, what: str, figure: str, ratio: str = "") -> None:
        self.rows.append((area, what, figure, ratio))
        print(f"  {area:9} | {what:62} | {figure:>16} | {ratio}", flush=True)

    def markdown(self) -> str:
        lines = ["| area | measurement | figure | ratio |", "|---|---|---:|---|"]
        lines += [f"| {a} | {w} | {f} | {r} |" for a, w, f, r in self.rows]
        return "\n".join(lines)


# --- database ------------------------------------------------------------------------------


def recreate_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server}/{name}"
    env = os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True, env=env, cwd=ROOT
    )
    return url


def settle_database() -> None:
    """VACUUM ANALYZE and CHECKPOINT after a bulk load, so that autovacuum and the
    checkpointer do not compete for the machine's two cores while the reads are timed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


# --- 1. posting ----------------------------------------------------------------------------


def bench_service_posting(built, ops: int) -> dict:
    """Accept `ops` pending contributions, then record `ops` settlements, through the services."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger import services
    from ledger.models import AccountBalance, Contribution

    pending = list(
        Contribution.objects.filter(pk__in=built.pending_ids[:ops]).select_related(
            "program", "artist"
        )
    )
    owed = (
        AccountBalance.objects.filter(
            program=built.program, account__artist__isnull=False, balance_minor__lt=-100 * ops
        )
        .select_related("account__artist")
        .order_by("account_id")
    )
    artists = [b.account.artist for b in owed[:200]]
    kind = "settlement"
    if not artists:  # nobody is owed enough: grants (no overdraw check) to any member
        kind = "grant"
        artists = [m.artist for m in built.program.memberships.select_related("artist")[:200]]
    with CaptureQueriesContext(connection) as q:
        services.accept_contribution(contribution=pending.pop(), actor=built.admin)
    accept_queries = len(q.captured_queries)
    with CaptureQueriesContext(connection) as q:
        services.record_payout(
            actor=built.admin,
            artist=artists[0],
            program=built.program,
            amount_minor=100,
            kind=kind,
        )
    payout_queries = len(q.captured_queries)

    t = time.perf_counter()
    for c in pending:
        services.accept_contribution(contribution=c, actor=built.admin)
    accept_s = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(len(pending)):
        services.record_payout(
            actor=built.admin,
            artist=artists[i % len(artists)],
            program=built.program,
            amount_minor=100,
            kind=kind,
        )
    payout_s = time.perf_counter() - t
    n = len(pending)
    return {
        "accept_per_s": n / accept_s,
        "payout_per_s": n / payout_s,
        "mixed_per_s": 2 * n / (accept_s + payout_s),
        "payout_kind": kind,
        "accept_queries": accept_queries,
        "payout_queries": payout_queries,
    }


class RawPoster:
    """The same rows as the services, written with plain psycopg (prepared statements)."""

    def __init__(self, url: str, built):
        import psycopg

        from ledger.models import Account, AccountKind

        self.conn = psycopg.connect(url)
        self.program = built.program
        self.admin_id = built.admin.pk
        labor = Account.objects.get(program=built.program, kind=AccountKind.LABOR)
        self.labor_id, self.labor_code = labor.pk, labor.code
        self.payables = {
            a.artist_id: (a.pk, a.code)
            for a in Account.objects.filter(program=built.program, kind=AccountKind.PAYABLE)
        }

    def _post_acceptance(self, cur, contribution_id, artist_id, value, title, kind, now):
        """Lock head and balances, insert entry + 2 postings, update balances and head."""
        from ledger.hashing import canonical_content, chain_hash

        pid, currency = self.program.pk, self.program.currency
        payable_id, payable_code = self.payables[artist_id]
        cur.execute(
            "SELECT seq, hash FROM ledger_ledgerhead WHERE program_id = %s FOR UPDATE", [pid]
        )
        seq, prev = cur.fetchone()
        cur.execute(
            "SELECT account_id, balance_minor FROM ledger_accountbalance "
            "WHERE account_id = ANY(%s) ORDER BY account_id FOR UPDATE",
            [sorted([self.labor_id, payable_id])],
        )
        cur.fetchall()
        seq += 1
        memo = f"Accepted {'feedback' if kind == 'feedback' else 'bug report'}: {title}"[:300]
        day = now.date()
        digest = chain_hash(
            prev,
            canonical_content(
                program_id=pid,
                seq=seq,
                kind="acceptance",
                contribution_id=contribution_id,
                payout_id=None,
                reverses_hash=None,
                memo=memo,
                posted_at=now,
                effective_date=day,
                postings=[(self.labor_code, value, currency), (payable_code, -value, currency)],
            ),
        )
        cur.execute(
            "INSERT INTO ledger_entry (program_id, seq, kind, contribution_id, memo, posted_at, "
            "effective_date, created_by_id, prev_hash, hash) "
            "VALUES (%s, %s, 'acceptance', %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [pid, seq, contribution_id, memo, now, day, self.admin_id, prev, digest],
        )
        entry_id = cur.fetchone()[0]
        labor_leg = (entry_id, pid, self.labor_id, value, currency)
        payable_leg = (entry_id, pid, payable_id, -value, currency)
        cur.execute(
            "INSERT INTO ledger_posting (entry_id, program_id, account_id, amount_minor, currency) "
            "VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
            [*labor_leg, *payable_leg],
        )
        for account_id, amount in ((self.labor_id, value), (payable_id, -value)):
            cur.execute(
                "UPDATE ledger_accountbalance SET balance_minor = balance_minor + %s, "
                "version = version + 1, updated_at = %s WHERE account_id = %s",
                [amount, now, account_id],
            )
        cur.execute(
            "UPDATE ledger_ledgerhead SET seq = %s, hash = %s WHERE program_id = %s",
            [seq, digest, pid],
        )

    def minimal(self, contribution_ids: list[int]) -> float:
        """Post already-accepted contributions: entry, 2 postings, 2 balances, head. Entries/s."""
        rows = self._contributions(contribution_ids)
        from ledger import clock

        t = time.perf_counter()
        for cid, artist_id, value, title, kind in rows:
            with self.conn.cursor() as cur:
                self._post_acceptance(cur, cid, artist_id, value, title, kind, clock.now())
            self.conn.commit()
        return len(rows) / (time.perf_counter() - t)

    def full(self, contribution_ids: list[int]) -> float:
        """What accept_contribution writes, in SQL: lock, value and update the contribution,
        then entry, postings, balances and head, the membership total and the audit row."""
        from ledger import clock
        from ledger.money import value_of_hours

        pid = self.program.pk
        t = time.perf_counter()
        for cid in contribution_ids:
            now = clock.now()
            with self.conn.cursor() as cur:
                cur.execute(
                    "SELECT artist_id, kind, hours, severity, title, occurred_on, status "
                    "FROM ledger_contribution WHERE id = %s FOR UPDATE",
                    [cid],
                )
                artist_id, kind, hours, severity, title, occurred_on, status = cur.fetchone()
                assert status == "submitted"
                cur.execute(
                    "SELECT id, hourly_rate_minor, bounty_low_minor, bounty_medium_minor, "
                    "bounty_high_minor, bounty_critical_minor FROM ledger_ratecard "
                    "WHERE program_id = %s AND effective_from <= %s "
                    "ORDER BY effective_from DESC LIMIT 1",
                    [pid, occurred_on],
                )
                card = cur.fetchone()
                if kind == "feedback":
                    value = value_of_hours(hours, card[1])
                else:
                    value = card[2 + ["low", "medium", "high", "critical"].index(severity)]
                cur.execute(
                    "UPDATE ledger_contribution SET status = 'accepted', value_minor = %s, "
                    "estimate_minor = %s, rate_card_id = %s, reviewed_at = %s, "
                    "reviewed_by_id = %s, review_note = '', accepted_on = %s WHERE id = %s",
                    [value, value, card[0], now, self.admin_id, now.date(), cid],
                )
                self._post_acceptance(cur, cid, artist_id, value, title, kind, now)
                cur.execute(
                    "UPDATE ledger_membership SET valued_minor = valued_minor + %s "
                    "WHERE program_id = %s AND artist_id = %s",
                    [value, pid, artist_id],
                )
                cur.execute(
                    "INSERT INTO ledger_auditevent (at, actor_id, action, object_type, "
                    "object_id, program_id, data) VALUES (%s, %s, 'contribution.accept', "
                    "'contribution', %s, %s, %s)",
                    [now, self.admin_id, str(cid), pid, json.dumps({"value_minor": value})],
                )
            self.conn.commit()
        return len(contribution_ids) / (time.perf_counter() - t)

    def _contributions(self, ids):
        from ledger.models import Contribution

        return list(
            Contribution.objects.filter(pk__in=ids)
            .order_by("id")
            .values_list("id", "artist_id", "value_minor", "title", "kind")
        )

    def close(self):
        self.conn.close()


# --- the peer: django-hordak ---------------------------------------------------------------


def build_hordak(legs: int):
    """Two hordak accounts; the liability gets `legs` legs (COPY, one leg per transaction)."""
    import datetime as dt
    import uuid
    from decimal import Decimal

    from django.db import connection, transaction
    from hordak.models import Account, Leg, Transaction

    from bench.dataset import Copier, next_id, reset_sequence

    hot = Account.objects.create(name="Payable to artist", type="LI", currencies=["EUR"])
    cash = Account.objects.create(name="Cash", type="AS", currencies=["EUR"])
    first_tx, first_leg = next_id(Transaction), next_id(Leg)
    now = dt.datetime.now(dt.UTC)
    txs, rows = [], []
    for i in range(legs):
        tx_id = first_tx + i
        amount = Decimal(random.randint(1, 50_000)) / 100
        txs.append(
            {
                "id": tx_id,
                "uuid": uuid.uuid4(),
                "timestamp": now,
                "date": now.date(),
                "description": "",
            }
        )
        rows.append(
            {
                "id": first_leg + 2 * i,
                "uuid": uuid.uuid4(),
                "description": "",
                "account_id": cash.pk,
                "transaction_id": tx_id,
                "credit": amount,
                "debit": None,
                "currency": "EUR",
            }
        )
        rows.append(
            {
                "id": first_leg + 2 * i + 1,
                "uuid": uuid.uuid4(),
                "description": "",
                "account_id": hot.pk,
                "transaction_id": tx_id,
                "credit": None,
                "debit": amount,
                "currency": "EUR",
            }
        )
    tc, lc = Copier(Transaction), Copier(Leg)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        tc.copy(txs, cursor)
        lc.copy(rows, cursor)
        cursor.execute("ANALYZE hordak_transaction")
        cursor.execute("ANALYZE hordak_leg")
    reset_sequence(Transaction)
    reset_sequence(Leg)
    assert Leg.objects.filter(account=hot).count() == legs
    return hot, cash


# --- 2. reads ------------------------------------------------------------------------------


def bench_balance_reads(built, n: int, url: str) -> dict:
    """µs per read: the service query, and a raw primary-key read of the same balance row."""
    import psycopg

    from accounts.models import User
    from ledger.queries import payable_balance_minor

    rng = random.Random(1)
    artists = list(User.objects.filter(pk__in=rng.sample(built.artist_ids, 200)))
    program = built.program
    ours = timed(lambda i: payable_balance_minor(program, artists[i % len(artists)]), n, warmup=200)
    ids = [built.payable_ids[a.pk] for a in artists]
    with psycopg.connect(url) as conn, conn.cursor() as cur:

        def raw(i):
            cur.execute(
                "SELECT balance_minor FROM ledger_accountbalance WHERE account_id = %s",
                [ids[i % len(ids)]],
            )
            cur.fetchone()

        raw_times = timed(raw, n, warmup=200)
    return {
        "ours_median_s": statistics.median(ours),
        "ours_p95_s": pct(ours, 0.95),
        "raw_median_s": statistics.median(raw_times),
    }


def bench_statement_and_report(built, n: int = 20) -> dict:
    """The busiest artist's statement; program_report cold, after a few entries, and warm.

    The report stores per-artist figures in the database, shared by every process
    (ledger.queries.report_cache.posted_work): with the store empty (`forget`), the first
    report reads everything and stores it (cold); after entries are posted it recomputes only
    the artists they touched (a miss); with nothing posted it reads one stored row (a hit).
    bench/report_cold.py times the first report of a fresh process.
    """
    from accounts.models import User
    from ledger import queries, services
    from ledger.models import AccountBalance, Membership
    from ledger.queries import report_cache

    busiest = (
        AccountBalance.objects.filter(program=built.program, account__artist__isnull=False)
        .order_by("-version")
        .select_related("account")
        .first()
    )
    artist = User.objects.get(pk=busiest.account.artist_id)
    st = timed(lambda i: queries.statement(artist=artist, program=built.program), n, warmup=2)
    report_cache.forget()
    cold = timed(lambda i: queries.program_report(built.program), 1)
    members = list(Membership.objects.filter(program=built.program).select_related("artist")[:15])

    def after_three_grants(i):
        for member in members[3 * i : 3 * i + 3]:  # 1 minor unit to 3 artists, untimed
            services.record_payout(
                actor=built.admin,
                artist=member.artist,
                program=built.program,
                amount_minor=1,
                kind="grant",
            )
        t = time.perf_counter()
        queries.program_report(built.program)
        return time.perf_counter() - t

    miss = [after_three_grants(i) for i in range(5)]
    hit = timed(lambda i: queries.program_report(built.program), 5)
    return {
        "statement_median_s": statistics.median(st),
        "statement_lines": busiest.version,
        "report_cold_s": cold[0],
        "report_miss_median_s": statistics.median(miss),
        "report_median_s": statistics.median(hit),
    }


# --- 4. verify and export ------------------------------------------------------------------


def bench_verify(built, url: str) -> dict:
    import psycopg

    from ledger.verify import verify_program

    t = time.perf_counter()
    result = verify_program(built.program)
    ours_s = time.perf_counter() - t
    with psycopg.connect(url) as conn:
        t = time.perf_counter()
        rows = conn.execute(
            "SELECT account_id, count(*), sum(amount_minor) FROM ledger_posting "
            "WHERE program_id = %s GROUP BY account_id",
            [built.program.pk],
        ).fetchall()
        raw_s = time.perf_counter() - t
    counted = sum(r[1] for r in rows)
    return {
        "ok": result.ok,
        "problems": result.problems[:5],
        "postings": result.postings_checked,
        "ours_per_s": result.postings_checked / ours_s,
        "raw_per_s": counted / raw_s,
        "ours_s": ours_s,
        "raw_s": raw_s,
    }


def bench_export(built) -> dict:
    """Time the streaming hledger export of one program (`export_journal`); its peak memory
    at 1M postings is measured by bench/export_memory.py (docs/EXPORTS.md)."""
    from django.core.management import call_command

    with open(os.devnull, "w") as sink:
        t = time.perf_counter()
        call_command(
            "export_journal", f"--program={built.program.pk}", "--format=hledger", stdout=sink
        )
        seconds = time.perf_counter() - t
    return {"postings_per_s": built.postings / seconds, "seconds": seconds}


# The API endpoints measured against the trivial view, as a staff member of every program.
API_PATHS = [
    "/api/v1/balances/",
    "/api/v1/contributions/?page_size=50",
    "/api/v1/ledger/entries/",
]


def bench_token() -> str:
    """An API token of the bench's staff member: manager, reviewer and treasurer of every
    program (what the upgrade to roles per program made of v1's admins), not an operator,
    so each list request also reads the caller's roles as a program's staff's does."""
    from accounts.models import User
    from accounts.tokens import issue_token
    from ledger import access, services
    from ledger.models import Program

    staff, _ = User.objects.get_or_create(username="bench-admin")
    for program in Program.objects.order_by("id"):
        for role in ("manager", "reviewer", "treasurer"):
            if role not in access.roles_in(staff, program.pk):
                services.grant_role(actor=None, program=program, user=staff, role=role)
    return issue_token(user=staff, name="bench")[1]


# --- 3. the API under load -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(
    port: int,
    path: str,
    *,
    token: str | None = None,
    concurrency: int = 8,
    max_requests: int = 2000,
    max_seconds: float = 15.0,
    warmup: int = 20,
) -> dict:
    """GET `path` on 127.0.0.1:`port` from a thread pool; bounded in count and in time."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    issued = 0
    deadline = time.monotonic() + max_seconds

    def one(conn) -> tuple[int, float]:
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.perf_counter() - t

    def worker():
        nonlocal issued
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # loopback only
        try:
            while time.monotonic() < deadline:
                with lock:
                    if issued >= max_requests:
                        return
                    issued += 1
                try:
                    status, seconds = one(conn)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    status, seconds = 0, 0.0
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status:
                        latencies.append(seconds)
        finally:
            conn.close()

    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(warmup):
        one(warm)
    warm.close()
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
    wall = time.perf_counter() - t
    ok = sum(n for code, n in statuses.items() if 200 <= code < 400)
    return {
        "path": path,
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": statuses,
        "p50_s": statistics.median(latencies) if latencies else None,
        "p95_s": pct(latencies, 0.95) if latencies else None,
        "req_per_s": ok / wall,
    }


def bench_api(
    url: str,
    paths: list[str],
    *,
    token: str | None = None,
    workers: int = 2,
    concurrency: int = 8,
    max_requests: int = 2000,
    max_seconds: float = 15.0,
) -> list[dict]:
    """HOOK (the REST API, another branch): p50/p95 and req/s of `paths` under load.

    Starts gunicorn (`workers` sync workers, DEBUG off) on a free loopback port against the
    bench database `url`, with the bench urlconf (bench/urls.py: `/bench/ping/`, the trivial
    JSON view every other path is compared with, then the app's urls). `token` is sent as
    `Authorization: Bearer <token>`. After merging the API, pass e.g. `/api/v1/balances/`,
    `/api/v1/contributions/?page_size=50`, `/api/v1/ledger/entries/` with a token.
    """
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "ROOT_URLCONF": "bench.urls",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "60",
        # Plain HTTP on loopback: no redirect to HTTPS (production settings redirect otherwise).
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen(
        [
            gunicorn,
            "ledger.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/bench/ping/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not answer on /bench/ping/")
        return [
            load(
                port,
                path,
                token=token if path != "/bench/ping/" else None,
                concurrency=concurrency,
                max_requests=max_requests,
                max_seconds=max_seconds,
            )
            for path in ["/bench/ping/", *[p for p in paths if p != "/bench/ping/"]]
        ]
    finally:
        server.terminate()
        server.wait(timeout=20)


# --- profiling -----------------------------------------------------------------------------


def profile_service(built, ops: int, path: Path) -> None:
    """pyinstrument over `ops` acceptances and `ops` settlements; text report to `path`."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    bench_service_posting(built, ops)
    profiler.stop()
    path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))


# --- main ----------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000, help="ledger size in all")
    parser.add_argument("--small", type=int, default=100_000, help="first program's postings")
    parser.add_argument("--artists", type=int, default=3000, help="artists per program")
    parser.add_argument("--ops", type=int, default=1000, help="entries per posting path")
    parser.add_argument("--reads", type=int, default=5000, help="balance reads per path")
    parser.add_argument("--hordak-legs", type=int, default=100_000)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", DEFAULT_SERVER))
    parser.add_argument("--db", default="ledger_bench_run")
    parser.add_argument("--no-api", action="store_true")
    parser.add_argument("--api-url", action="append", default=[], help="extra API path")
    parser.add_argument("--api-token", default=None)
    parser.add_argument("--api-seconds", type=float, default=15.0)
    parser.add_argument("--profile", action="store_true", help="pyinstrument the service path")
    args = parser.parse_args()

    started = time.perf_counter()
    # Bulk loads and full-ledger checks outlast the app's 30 s statement timeout.
    os.environ["DJANGO_PG_STATEMENT_TIMEOUT_MS"] = "0"
    # Measure the app as it runs in production: DEBUG off (no query log).
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + os.urandom(16).hex())
    OUT.mkdir(exist_ok=True)
    sys.path.insert(0, str(ROOT))
    print(f"bench: fresh database {args.db}", flush=True)
    url = recreate_database(args.server, args.db)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.conf import settings

    from bench.dataset import build_program

    table = Table()
    data = table.data
    data["machine"] = machine()
    data["args"] = vars(args)
    data["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    # Phase 1: a ledger of `small` postings.
    t = time.perf_counter()
    small = build_program(postings=args.small, artists=args.artists, seed=1, name="Bench A")
    data["build_small_s"] = time.perf_counter() - t
    print(f"bench: built {small.postings} postings in {data['build_small_s']:.1f} s", flush=True)
    settle_database()
    reads_small = bench_balance_reads(small, args.reads, url)

    # Phase 2: grow the ledger to `postings` in all, with work waiting for the posting paths.
    t = time.perf_counter()
    big = build_program(
        postings=args.postings - small.postings,
        artists=args.artists,
        pending=2 * args.ops + 10,
        reserved=args.ops,
        seed=2,
        name="Bench B",
        admin=small.admin,
    )
    data["build_big_s"] = time.perf_counter() - t
    total = small.postings + big.postings
    print(f"bench: grew to {total} postings in {data['build_big_s']:.1f} s", flush=True)
    t = time.perf_counter()
    settle_database()
    data["settle_s"] = time.perf_counter() - t
    data["postings_total"] = total

    print("\n  area      | measurement" + " " * 51 + "| figure           | ratio", flush=True)
    reads_big = bench_balance_reads(big, args.reads, url)
    reads_small_again = bench_balance_reads(small, args.reads, url)

    # 1. Posting.
    service = bench_service_posting(big, args.ops)
    raw = RawPoster(url, big)
    raw_min = raw.minimal(big.reserved_ids)
    raw_full = raw.full(big.pending_ids[args.ops + 2 : 2 * args.ops + 2])
    raw.close()
    data["posting"] = {"service": service, "raw_minimal_per_s": raw_min, "raw_full_per_s": raw_full}
    table.add(
        "posting",
        "service: accept_contribution (entries/s)",
        f"{service['accept_per_s']:.0f}/s",
        f"{service['accept_queries']} queries each",
    )
    table.add(
        "posting",
        "service: record_payout, settlement (entries/s)",
        f"{service['payout_per_s']:.0f}/s",
        f"{service['payout_queries']} queries each",
    )
    table.add(
        "posting",
        "raw psycopg: entry + 2 postings + 2 balances + head (locks)",
        f"{raw_min:.0f}/s",
        f"service/raw = {service['mixed_per_s'] / raw_min:.2f} (target ≥ 0.5)",
    )
    table.add(
        "posting",
        "raw psycopg: every row accept_contribution writes",
        f"{raw_full:.0f}/s",
        f"accept/raw = {service['accept_per_s'] / raw_full:.2f}",
    )
    hordak = None
    if getattr(settings, "HAVE_HORDAK", False):
        from moneyed import Money

        t = time.perf_counter()
        hot, cash = build_hordak(args.hordak_legs)
        data["build_hordak_s"] = time.perf_counter() - t
        transfers = timed(lambda i: cash.transfer_to(hot, Money(1, "EUR")), args.ops, warmup=20)
        hordak_post = 1 / statistics.mean(transfers)
        table.add(
            "posting",
            "django-hordak 2.0: Account.transfer_to (entries/s)",
            f"{hordak_post:.0f}/s",
            f"service/hordak = {service['mixed_per_s'] / hordak_post:.2f}",
        )
        hot.get_balance()
        hordak_reads = timed(lambda i: hot.get_balance(), 20, warmup=3)
        hordak = {
            "post_per_s": hordak_post,
            "balance_median_s": statistics.median(hordak_reads),
            "legs": args.hordak_legs + len(transfers) + 20,
        }
        data["hordak"] = hordak

    # 2. Balance reads.
    data["reads"] = {"small": reads_small, "big": reads_big, "small_after": reads_small_again}
    table.add(
        "reads",
        f"payable_balance_minor at {small.postings:,} postings (median)",
        fmt_time(reads_small["ours_median_s"]),
        f"p95 {fmt_time(reads_small['ours_p95_s'])}",
    )
    table.add(
        "reads",
        f"payable_balance_minor at {total:,} postings (median)",
        fmt_time(reads_big["ours_median_s"]),
        f"flat: {reads_big['ours_median_s'] / reads_small['ours_median_s']:.2f}× the small one",
    )
    table.add(
        "reads",
        "raw psycopg primary-key read of the balance row",
        fmt_time(reads_big["raw_median_s"]),
        f"ours/raw = {reads_big['ours_median_s'] / reads_big['raw_median_s']:.1f}× slower",
    )
    if hordak:
        table.add(
            "reads",
            f"django-hordak get_balance, account with {hordak['legs']:,} legs",
            fmt_time(hordak["balance_median_s"]),
            f"ours is {hordak['balance_median_s'] / reads_big['ours_median_s']:.0f}× faster "
            "(target ≥ 50×)",
        )
    extra = bench_statement_and_report(big)
    data["statement_report"] = extra
    table.add(
        "reads",
        f"statement, busiest artist ({extra['statement_lines']} lines)",
        fmt_time(extra["statement_median_s"]),
    )
    report = f"program_report, {big.postings:,}-posting program"
    table.add("reads", f"{report}: first of the process", fmt_time(extra["report_cold_s"]))
    table.add(
        "reads",
        f"{report}: after 3 grants (miss, median of 5)",
        fmt_time(extra["report_miss_median_s"]),
    )
    table.add(
        "reads", f"{report}: nothing new (hit, median of 5)", fmt_time(extra["report_median_s"])
    )

    # 3. API.
    if not args.no_api:
        api = bench_api(
            url,
            ["/admin/login/", *(args.api_url or API_PATHS)],
            token=args.api_token or bench_token(),
            max_seconds=args.api_seconds,
        )
        data["api"] = api
        floor = api[0]["req_per_s"]
        for r in api:
            table.add(
                "api",
                f"GET {r['path']} p50 / p95 ({r['ok']}/{r['requests']} ok)",
                f"{fmt_time(r['p50_s'])} / {fmt_time(r['p95_s'])}",
                f"{r['req_per_s']:.0f} req/s = {r['req_per_s'] / floor:.2f} of ping",
            )

    # 4. Verify and export.
    verify = bench_verify(big, url)
    data["verify"] = verify
    table.add(
        "verify",
        f"verify_program, {verify['postings']:,} postings: "
        + ("ok" if verify["ok"] else "PROBLEMS"),
        f"{verify['ours_per_s']:,.0f}/s",
        f"{fmt_time(verify['ours_s'])}; raw is "
        f"{verify['raw_per_s'] / verify['ours_per_s']:.0f}× faster",
    )
    table.add(
        "verify",
        "raw SQL: sum of the same postings per account",
        f"{verify['raw_per_s']:,.0f}/s",
        fmt_time(verify["raw_s"]),
    )
    export = bench_export(big)
    data["export"] = export
    table.add(
        "export",
        f"export_journal --format hledger, {big.postings:,} postings",
        f"{export['postings_per_s']:,.0f} postings/s",
        fmt_time(export["seconds"]),
    )

    if args.profile:
        path = OUT / "profile-service.txt"
        extra_pending = build_program(
            postings=2000,
            artists=50,
            pending=2 * 200 + 10,
            seed=3,
            name="Bench P",
            admin=small.admin,
        )
        profile_service(extra_pending, 200, path)
        print(f"bench: profile written to {path}")

    data["seconds"] = time.perf_counter() - started
    (OUT / "results.json").write_text(json.dumps(data, indent=2, default=str))
    (OUT / "results.md").write_text(table.markdown() + "\n")
    print("\n" + table.markdown())
    print(f"\nbench: {data['seconds']:.0f} s in all; bench/out/results.json", flush=True)
    if not verify["ok"]:
        print(f"bench: verify FAILED: {verify['problems']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    ensure_venv()
    sys.exit(main())
