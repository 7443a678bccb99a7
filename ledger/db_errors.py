"""Name the database failures an interface should answer with 409/503 instead of 500.

    kind = classify(exc)  # "lock_timeout", "statement_timeout", "serialization", "connection"
                          # or None

- "lock_timeout": a row lock stayed held past `lock_timeout` (PostgreSQL 55P03), or SQLite's
  busy timeout ran out ("database is locked"). Someone else is changing the same thing: 409 or
  503 with Retry-After; retrying shortly usually succeeds.
- "statement_timeout": the statement ran past `statement_timeout` (57014): 503.
- "serialization": a serialization failure or deadlock (40001, 40P01); the transaction was
  rolled back whole and may be retried as it is: 409/503.
- "connection": the connection broke (class 08, the server shut down or terminated the
  backend: 57P01..57P03, or the client library found it closed). Whatever the transaction did
  was rolled back by the server unless its COMMIT had been acknowledged: 503. Django discards
  the broken connection and opens a new one at the next request (CONN_HEALTH_CHECKS).
- None: anything else, which stays a 500 (a bug, not a condition to answer politely).

Nothing here retries: services are single transactions, and whether to retry is the caller's
decision (the API's idempotency keys make a client's retry safe).
"""

import sqlite3

import psycopg
from django.db import utils as django_db

LOCK_TIMEOUT = "lock_timeout"
STATEMENT_TIMEOUT = "statement_timeout"
SERIALIZATION = "serialization"
CONNECTION = "connection"

_SQLSTATES = {
    "55P03": LOCK_TIMEOUT,  # lock_not_available
    "57014": STATEMENT_TIMEOUT,  # query_canceled (statement_timeout; also a user cancel)
    "40001": SERIALIZATION,  # serialization_failure
    "40P01": SERIALIZATION,  # deadlock_detected
    "57P01": CONNECTION,  # admin_shutdown: pg_terminate_backend, a fast shutdown
    "57P02": CONNECTION,  # crash_shutdown
    "57P03": CONNECTION,  # cannot_connect_now: starting up or shutting down
}


def _chain(exc: BaseException):
    """The exception, then its explicit causes (Django re-raises the driver's error `from` it)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__


def classify(exc: BaseException) -> str | None:
    """The kind of database failure `exc` is, or None when it is none of the known ones."""
    for error in _chain(exc):
        if isinstance(error, psycopg.Error):
            sqlstate = error.sqlstate or ""
            if sqlstate in _SQLSTATES:
                return _SQLSTATES[sqlstate]
            if sqlstate.startswith("08"):  # connection_exception class
                return CONNECTION
            if not sqlstate and isinstance(
                error, psycopg.OperationalError | psycopg.InterfaceError
            ):
                # No server answer at all: the socket closed, or the connection was closed.
                return CONNECTION
            return None
        if isinstance(error, sqlite3.OperationalError):
            message = str(error).lower()
            if "database is locked" in message or "database table is locked" in message:
                return LOCK_TIMEOUT
            return None
    # A connection Django itself found closed ("connection already closed") has no driver cause.
    if isinstance(exc, django_db.InterfaceError):
        return CONNECTION
    return None
