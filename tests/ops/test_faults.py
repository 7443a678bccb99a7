"""Faults on PostgreSQL: a killed connection, a held row lock, timeouts, a server "restart".

None of them may leave half an action behind, and each surfaces as an error that
`ledger.db_errors.classify` names, so interfaces answer 409/503 instead of 500.
"""

import json
import sqlite3
import threading
import time

import psycopg
import pytest
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.test import RequestFactory

from ledger import services
from ledger.db_errors import classify
from ledger.health import healthz
from ledger.models import AccountBalance, AuditEvent, Entry, Membership, Payout, Posting
from ledger.services.journal import entry_accounts
from ledger.verify import verify_program
from tests.conftest import accepted_work

pg = pytest.mark.postgres


def other_connection(**kwargs) -> psycopg.Connection:
    """A second client of the test database, outside Django (the "other session")."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        **kwargs,
    )


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(*pids) -> None:
    with other_connection(autocommit=True) as admin_conn:
        for pid in pids:
            assert admin_conn.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


def snapshot():
    return {
        "rows": [m.objects.count() for m in (Payout, Entry, Posting, AuditEvent)],
        "balances": dict(AccountBalance.objects.values_list("account_id", "balance_minor")),
        "memberships": list(
            Membership.objects.order_by("id").values_list("settlements_minor", "grants_minor")
        ),
    }


def settle(admin, artist, program, amount=5000):
    return services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=amount, kind="settlement"
    )


@pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("direct_session")
def test_payout_killed_before_commit_leaves_nothing_and_retry_pays_once(admin, artist, program):
    accepted_work(program, artist, admin, "4.00")  # 180.00 owed
    before = snapshot()
    posted, release, outcome = threading.Event(), threading.Event(), {}

    def pay():
        try:
            with transaction.atomic():
                settle(admin, artist, program)
                outcome["pid"] = backend_pid()
                posted.set()
                release.wait(10)
            outcome["committed"] = True
        except Exception as error:  # examined below
            outcome["error"] = error
        finally:
            posted.set()
            connections.close_all()

    thread = threading.Thread(target=pay)
    thread.start()
    assert posted.wait(10)
    assert "pid" in outcome, outcome.get("error")
    terminate(outcome["pid"])  # between posting and commit
    release.set()
    thread.join(10)

    assert "committed" not in outcome
    error = outcome["error"]
    assert isinstance(error, OperationalError | InterfaceError), repr(error)
    assert classify(error) == "connection"
    assert snapshot() == before
    assert verify_program(program).ok

    # The retry is a fresh call: it pays exactly once.
    settle(admin, artist, program)
    after = snapshot()
    assert after["rows"][0] == before["rows"][0] + 1
    payable = entry_accounts(program, artist)["payable"].pk
    assert after["balances"][payable] == before["balances"][payable] + 5000
    assert Membership.objects.get(program=program, artist=artist).settlements_minor == 5000
    assert verify_program(program).ok


@pg
@pytest.mark.django_db(transaction=True)
def test_settlement_behind_a_held_row_lock_fails_fast(admin, artist, program):
    accepted_work(program, artist, admin, "4.00")
    payable = entry_accounts(program, artist)["payable"].pk
    before = snapshot()
    with other_connection() as holder:  # a transaction holding the payable's balance row
        holder.execute(
            "SELECT balance_minor FROM ledger_accountbalance WHERE account_id = %s FOR UPDATE",
            [payable],
        )
        started = time.monotonic()
        with pytest.raises(OperationalError) as info, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            settle(admin, artist, program)
        assert time.monotonic() - started < 3
        holder.rollback()
    assert isinstance(info.value.__cause__, psycopg.errors.LockNotAvailable)
    assert classify(info.value) == "lock_timeout"
    assert snapshot() == before
    settle(admin, artist, program)  # once the lock is gone it goes through
    assert Payout.objects.count() == before["rows"][0] + 1
    assert verify_program(program).ok


@pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("direct_session")
def test_classify_real_postgresql_errors():
    with pytest.raises(OperationalError) as info, transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL statement_timeout = 1")
        c.execute("SELECT pg_sleep(1)")
    assert isinstance(info.value.__cause__, psycopg.errors.QueryCanceled)
    assert classify(info.value) == "statement_timeout"

    # Serialization failure: a repeatable-read transaction updates a row changed since it began.
    with other_connection(autocommit=True) as other:
        other.execute("CREATE TABLE ops_probe (id int PRIMARY KEY, n int)")
        other.execute("INSERT INTO ops_probe VALUES (1, 0)")
        try:
            with (
                pytest.raises(OperationalError) as info,
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SELECT n FROM ops_probe WHERE id = 1")
                other.execute("UPDATE ops_probe SET n = n + 1 WHERE id = 1")
                cursor.execute("UPDATE ops_probe SET n = n + 1 WHERE id = 1")
            assert isinstance(info.value.__cause__, psycopg.errors.SerializationFailure)
            assert classify(info.value) == "serialization"
        finally:
            other.execute("DROP TABLE ops_probe")

    # The connection killed under an idle session: the next statement finds it gone.
    terminate(backend_pid())
    with pytest.raises(OperationalError) as info, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert classify(info.value) == "connection"
    # Using it again: the driver (or Django) reports a closed connection, with no server code.
    with pytest.raises((OperationalError, InterfaceError)) as info, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert classify(info.value) == "connection"
    connection.close()

    # Errors that are not a condition to answer politely stay unclassified.
    with pytest.raises(Exception) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1/0")
    assert classify(info.value) is None
    assert classify(ValueError("x")) is None


@pytest.mark.django_db(transaction=True)
def test_classify_sqlite_busy(tmp_path):
    """SQLite's form of a lock timeout: the busy timeout runs out while another writes."""
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (n int)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0.1, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as info:
        waiter.execute("BEGIN IMMEDIATE")
    holder.close()
    waiter.close()
    assert classify(info.value) == "lock_timeout"


@pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("direct_session")
def test_app_serves_again_after_the_database_drops_every_connection(admin, artist, program):
    """What a PostgreSQL restart does to a running app: every connection is cut.

    With persistent connections (DJANGO_CONN_MAX_AGE > 0) and CONN_HEALTH_CHECKS, the first
    database use of the next request notices the dead connection and opens a new one.
    """
    accepted_work(program, artist, admin, "4.00")
    saved = dict(connection.settings_dict)
    try:
        for health_checks, expect_ok in ((True, True), (False, False)):
            connection.close()
            connection.settings_dict["CONN_MAX_AGE"] = 600
            connection.settings_dict["CONN_HEALTH_CHECKS"] = health_checks
            old_pid = backend_pid()
            with other_connection(autocommit=True) as other:
                other.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            close_old_connections()  # what Django does as every request starts
            if expect_ok:
                settle(admin, artist, program, 1000)
                assert backend_pid() != old_pid
            else:  # the contrast: without health checks the stale connection fails
                with pytest.raises(OperationalError) as info:
                    settle(admin, artist, program, 1000)
                assert classify(info.value) == "connection"
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert Payout.objects.count() == 1
    assert verify_program(program).ok


@pytest.mark.django_db
def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.post("/healthz").status_code == 405


@pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("direct_session")
def test_healthz_reports_a_dead_database_connection():
    request = RequestFactory().get("/healthz")
    assert healthz(request).status_code == 200
    terminate(backend_pid())
    response = healthz(request)
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable", "database": "connection"}
    connection.close()  # what the next request's start does with a broken connection
    assert healthz(request).status_code == 200
