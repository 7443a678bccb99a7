"""The app through PgBouncer in transaction pooling mode (scripts/pgbouncer).

These run on whatever PostgreSQL the suite uses; scripts/test points the suite at a PgBouncer
when it can start one (always in CI) and sets LEDGER_TEST_PGBOUNCER=1, and then each test also
checks on PgBouncer's admin console that its connections did go through it. What must hold
either way: session limits are the database's own settings (no startup options, which
PgBouncer refuses), no server-side prepared statements or cursors, and a statement over the
timeout is cancelled.
"""

import os
import time

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import override_settings

from ledger import db_settings
from ledger.db_errors import classify

THROUGH_PGBOUNCER = os.environ.get("LEDGER_TEST_PGBOUNCER") == "1"
pg = pytest.mark.postgres


def pgbouncer_admin() -> psycopg.Connection | None:
    """PgBouncer's admin console at the suite's database address, None when it is not one."""
    s = connection.settings_dict
    try:
        # The admin console speaks the simple query protocol only: a client-side cursor.
        admin = psycopg.connect(
            dbname="pgbouncer", user=s["USER"] or None, host=s["HOST"] or None,
            port=s["PORT"] or None, autocommit=True, cursor_factory=psycopg.ClientCursor,
            connect_timeout=3,
        )  # fmt: skip
    except psycopg.Error:
        if THROUGH_PGBOUNCER:
            raise
        return None
    return admin


def show(admin, what: str) -> list[dict]:
    cursor = admin.execute(f"SHOW {what}")
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _end_sessions(database: str) -> None:
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )


@pg
def test_session_limits_are_stored_on_the_database(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setconfig FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        stored = set(cursor.fetchone()[0])
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] != "0"
    assert stored >= {f"{name}={ms}ms" for name, ms in settings.LEDGER_PG_TIMEOUTS_MS.items()}
    assert "options" not in settings.DATABASES["default"]["OPTIONS"]


@pg
def test_no_prepared_statements_and_no_server_side_cursors(db):
    connection.ensure_connection()
    assert connection.connection.prepare_threshold is None
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, psycopg.ClientCursor)  # binds client-side: no Parse
    assert settings.DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True


@pg
@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_timeout_is_cancelled():
    """`apply` stores a short statement_timeout on a scratch database; a new server session
    (the pool's old ones ended first, so the setting is the database's, not a `SET`) has a
    statement over it cancelled, through PgBouncer when the suite runs through it."""
    scratch = f"{connection.settings_dict['NAME']}_limits"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        cursor.execute(f'CREATE DATABASE "{scratch}"')
    first = second = None
    try:
        first = connection.copy()
        first.settings_dict["NAME"] = scratch
        limits = {**settings.LEDGER_PG_TIMEOUTS_MS, "statement_timeout": 200}
        with override_settings(LEDGER_PG_TIMEOUTS_MS=limits):
            assert db_settings.apply(first)["statement_timeout"] == "200ms"
        first.close()
        _end_sessions(scratch)

        second = connection.copy()
        second.settings_dict["NAME"] = scratch
        started = time.monotonic()
        with pytest.raises(OperationalError) as info, second.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
        assert classify(info.value) == "statement_timeout"
        assert time.monotonic() - started < 3
        admin = pgbouncer_admin()
        if admin is not None:
            with admin:
                assert scratch in {pool["database"] for pool in show(admin, "POOLS")}
    finally:
        for wrapper in (first, second):
            if wrapper is not None:
                wrapper.close()
        _end_sessions(scratch)
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')


@pytest.mark.skipif(not THROUGH_PGBOUNCER, reason="the suite's database is not behind PgBouncer")
def test_startup_options_are_refused_by_pgbouncer(db):
    """Why the limits are database settings: PgBouncer refuses a client's startup options
    (the way they were passed before)."""
    s = connection.settings_dict
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter"):
        psycopg.connect(
            dbname=s["NAME"], user=s["USER"] or None, host=s["HOST"], port=s["PORT"],
            options="-c lock_timeout=100",
        ).close()  # fmt: skip


@pg
def test_the_app_answers_through_the_pooler(client, admin, program):
    client.force_login(admin)
    response = client.get(f"/programs/{program.pk}/")
    assert response.status_code == 200
    assert program.name in response.content.decode()
    pooler = pgbouncer_admin()
    if pooler is not None:
        with pooler:
            clients = show(pooler, "CLIENTS")
        assert connection.settings_dict["NAME"] in {c["database"] for c in clients}
