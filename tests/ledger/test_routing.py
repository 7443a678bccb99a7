"""Read routing (ledger/routing.py): a real streaming replica of the test database's cluster,
made by scripts/replica, lagging on purpose (replay paused), and what each reader sees.

The replica is a copy of the whole cluster, so the test database is on it under the same name;
only committed rows stream, hence the transactional tests. One base backup per module (about
5 s for a small cluster), on a free port of its own.
"""

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client, RequestFactory, override_settings

from ledger import routing, services
from ledger.models import Entry, LedgerHead, Payout, Program
from ledger.queries import report_cache
from tests.api.conftest import client_for
from tests.conftest import make_program
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
ROUTER = ["ledger.routing.ReplicaRouter"]


def test_without_a_replica_nothing_changes(db):
    """No DATABASE_REPLICA_URL (the suite's setting): no alias, no router, every read the
    primary's, and the middleware keeps nothing."""
    from django.conf import settings

    assert "replica" not in connections.settings
    assert not getattr(settings, "DATABASE_ROUTERS", [])
    with routing.replica_reads():
        assert routing.read_alias() == routing.PRIMARY
        assert routing.read_connection() is connections[routing.PRIMARY]


# --- a real replica --------------------------------------------------------------------------


def _free_port() -> int:
    """A port no server listens on, from 5433 up (each xdist process from its own offset)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    start = 5433 + 8 * (int(worker) if worker.isdigit() else 0)
    for port in range(start, start + 200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port for the replica")


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    """A streaming replica of the test database's cluster: (port, data directory)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    primary = connection.settings_dict
    # The cluster's own address: a base backup speaks the replication protocol, which PgBouncer
    # does not carry (scripts/test gives it when the suite runs through PgBouncer).
    direct = urlsplit(os.environ.get("LEDGER_TEST_DIRECT_DATABASE_URL", ""))
    cluster = (
        f"{direct.hostname}:{direct.port or 5432}"
        if direct.hostname
        else f"{primary['HOST'] or '127.0.0.1'}:{primary['PORT'] or 5432}"
    )
    port = _free_port()
    directory = tempfile.mkdtemp(prefix="ledger-replica-")
    command = [
        str(ROOT / "scripts" / "replica"),
        "start",
        "--port",
        str(port),
        "--dir",
        directory,
        "--primary",
        cluster,
        "--database",
        primary["NAME"],
        "--no-sync",  # a throw-away copy: ten times faster to make
    ]
    started = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().endswith(f":{port}/{primary['NAME']}")
    # The alias as DATABASE_REPLICA_URL makes it: the test database's settings, on the copy.
    # Here for the module, so the tests can name it (marker `databases`); a test mirror, so
    # nothing flushes it.
    connections.settings[routing.REPLICA] = {
        **primary,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "OPTIONS": {**primary["OPTIONS"], "connect_timeout": 2},
        "TEST": {**primary["TEST"], "MIRROR": routing.PRIMARY},
    }
    try:
        yield port, directory
    finally:
        connections[routing.REPLICA].close()
        del connections[routing.REPLICA]
        del connections.settings[routing.REPLICA]
        stop = [str(ROOT / "scripts" / "replica"), "stop", "--dir", directory, "--immediate"]
        subprocess.run(stop, capture_output=True, timeout=120)
        shutil.rmtree(directory, ignore_errors=True)


def _control(port):
    """A superuser connection to the replica, for pausing and resuming its replay."""
    return psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
    )


def _primary_position() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def _wait_replayed(port, position: int, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    with _control(port) as control:
        while True:
            (replayed,) = control.execute(
                "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn"
            ).fetchone()
            if int(replayed) >= position:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


def _streamed(response) -> str:
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content).decode()


@contextlib.contextmanager
def _routed(**options):
    """The router on, as DATABASE_REPLICA_URL turns it on."""
    routing._down_until = 0.0
    try:
        with override_settings(DATABASE_ROUTERS=ROUTER, **options):
            yield
    finally:
        routing._down_until = 0.0


REPLICA_TEST = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def books(transactional_db):
    """A program with a treasurer, an artist, an auditor and an operator, all committed."""
    admin = UserFactory(username="ops-admin", is_superuser=True)
    program = make_program(admin)
    artist, treasurer = UserFactory(username="paid-artist"), UserFactory(username="treasurer")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
    return program, admin, artist, treasurer


@pytest.mark.postgres
@REPLICA_TEST
def test_a_payout_is_read_back_by_its_author_at_once_and_by_others_once_replayed(
    replica, books, caplog
):
    caplog.set_level(logging.WARNING, logger="ledger.routing")
    port, _ = replica
    program, admin, artist, treasurer = books
    author, reader, operator = client_for(treasurer), client_for(artist), client_for(admin)
    payouts = f"/api/v1/payouts/?program={program.pk}"
    statement = f"/api/v1/statements/?program={program.pk}"
    journal = f"/api/v1/ledger/export/?program={program.pk}&format=hledger"
    page = Client()  # the pages share the middleware: the artist's statement page
    page.force_login(artist)
    statement_page = f"/programs/{program.pk}/statement/"
    with _routed(LEDGER_REPLICA_MAX_LAG_SECONDS=3600):
        # Each token's first use notes its time (a write): done before the replica lags.
        for client in (author, reader, operator):
            assert client.get("/api/v1/me/").status_code == 200
        _wait_replayed(port, _primary_position())
        with _control(port) as control:
            control.execute("SELECT pg_wal_replay_pause()")
            try:
                response = author.post(
                    "/api/v1/payouts/",
                    {
                        "artist": artist.pk,
                        "program": program.pk,
                        "amount": "12.50",
                        "kind": "grant",
                    },
                    format="json",
                )
                assert response.status_code == 201, response.content
                payout = response.json()["id"]

                # Its author sees it at once, however far the replica lags: the record, the
                # list and the artist's statement (read-your-writes keeps them on the primary).
                assert author.get(f"/api/v1/payouts/{payout}/").status_code == 200
                assert [row["id"] for row in author.get(payouts).json()["results"]] == [payout]
                lines = author.get(f"{statement}&artist={artist.pk}").json()["lines"]
                assert [line["payout"] for line in lines] == [payout]

                # Someone else's list and statement come from the replica: not there yet; as
                # the journal streamed to the operator after its view returned, and the page.
                assert reader.get(payouts).json()["results"] == []
                assert reader.get(statement).json()["lines"] == []
                assert "12.50" not in _streamed(operator.get(journal))
                assert "12.50" not in page.get(statement_page).content.decode()
                # ... but nothing that checks the books reads a copy: the chain as committed.
                verified = operator.get(f"/api/v1/ledger/verify/?program={program.pk}").json()
                assert verified["ok"] is True
                assert verified["entries_checked"] == Entry.objects.filter(program=program).count()
                assert verified["head_hash"] == LedgerHead.objects.get(program=program).hash

                # A replica further behind than the bound is passed over.
                with override_settings(LEDGER_REPLICA_MAX_LAG_SECONDS=0):
                    rows = reader.get(payouts).json()["results"]
                    assert [row["id"] for row in rows] == [payout]
            finally:
                control.execute("SELECT pg_wal_replay_resume()")

        # Replayed: the others see it too.
        _wait_replayed(port, _primary_position())
        assert [row["id"] for row in reader.get(payouts).json()["results"]] == [payout]
        assert [line["payout"] for line in reader.get(statement).json()["lines"]] == [payout]
        assert "12.50" in _streamed(operator.get(journal))
        assert "12.50" in page.get(statement_page).content.decode()
    # Every decision was made, none fell back for a failure (the positions' read, say).
    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.postgres
@REPLICA_TEST
def test_writes_locks_and_the_ledger_check_go_to_the_primary(replica, books):
    port, _ = replica
    program, _, artist, treasurer = books
    request = RequestFactory().get("/api/v1/payouts/")
    request.user = artist
    with _routed():
        _wait_replayed(port, _primary_position())
        route = routing.RequestRoute(request)
        token = routing._request.set(route)
        try:
            with routing.replica_reads(), connection.execute_wrapper(route.watch):
                assert routing.read_alias() == routing.REPLICA
                assert Program.objects.all().db == routing.REPLICA
                assert Program.objects.select_for_update().db == routing.PRIMARY
                assert Program.objects.get(pk=program.pk)._state.db == routing.REPLICA
                # A write in the middle of replica reads goes to the primary, and the
                # request reads the primary from then on (its own write included).
                paid = services.record_payout(
                    actor=treasurer, artist=artist, program=program, amount_minor=100, kind="grant"
                )
                assert paid._state.db == routing.PRIMARY
                assert route.wrote
                assert routing.read_alias() == routing.PRIMARY
                assert Payout.objects.filter(pk=paid.pk).exists()
            # Outside replica_reads(): the primary, whatever the request may.
            assert routing.read_alias() == routing.PRIMARY
        finally:
            routing._request.reset(token)


@pytest.mark.postgres
@REPLICA_TEST
def test_an_unreachable_replica_leaves_the_reads_on_the_primary(replica, books):
    program, _, artist, treasurer = books
    services.record_payout(
        actor=treasurer, artist=artist, program=program, amount_minor=100, kind="grant"
    )
    replica_settings = connections.settings[routing.REPLICA]
    port = replica_settings["PORT"]
    connections[routing.REPLICA].close()
    replica_settings["PORT"] = str(_free_port())  # nothing listens there
    try:
        with _routed():
            reader = client_for(artist)
            assert reader.get("/api/v1/me/").status_code == 200  # the token's first use
            started = time.monotonic()
            rows = reader.get(f"/api/v1/payouts/?program={program.pk}").json()
            assert len(rows["results"]) == 1
            assert routing._down_until > started  # not asked again for a while
            assert time.monotonic() - started < 5
    finally:
        connections[routing.REPLICA].close()
        replica_settings["PORT"] = port


@pytest.mark.django_db(transaction=True)
def test_a_report_that_stores_its_figures_is_no_write_of_its_reader(books):
    """The figures a report stores are a cache filled by a read: the request goes on reading
    where it was routed, and no position is kept for a reader who wrote nothing."""
    program, admin, artist, _ = books
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=500, kind="grant"
    )
    report_cache.forget(program)
    request = RequestFactory().get("/")
    request.user, request.session = artist, None
    route = routing.RequestRoute(request)
    token = routing._request.set(route)
    try:
        with connections["default"].execute_wrapper(route.watch):
            report_cache.posted_work(program, LedgerHead.objects.get(program=program))
            assert not route.wrote
            # ... while a write of its own is seen
            UserFactory(username="written-by-the-request")
            assert route.wrote
    finally:
        routing._request.reset(token)
    assert report_cache.stored(program) is not None  # it did store
