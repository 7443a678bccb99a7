"""Shared fixtures. Tests marked `postgres` need PostgreSQL (triggers, row locks, threads).

On SQLite they are skipped with a notice at the end of the run; with LEDGER_REQUIRE_POSTGRES=1
(set by scripts/test for the PostgreSQL pass, and so in CI) a skip of one is a failure.
"""

import datetime as dt
import os
import time
from decimal import Decimal
from unittest import mock
from urllib.parse import urlsplit

import pgtrigger
import pytest
from django.db import connection
from django.test import TransactionTestCase, override_settings

from ledger import clock, services
from tests.factories import UserFactory

REQUIRE_POSTGRES = os.environ.get("LEDGER_REQUIRE_POSTGRES") == "1"
NEEDS_POSTGRES = "needs PostgreSQL (DATABASE_URL=postgres://…)"


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    # pytest-django has ordered the tests as Django does (database tests, then transactional
    # ones, then the rest). The browser tests, all transactional, move to the start of theirs:
    # they are the longest (the axe sweep alone is most of a minute), and one started near the
    # end could run on alone while the other xdist process has nothing left to do.
    browser = [item for item in items if item.get_closest_marker("browser")]
    if browser:
        assert all(_transactional(item) for item in browser)
        rest = [item for item in items if not item.get_closest_marker("browser")]
        at = next((n for n, item in enumerate(rest) if _transactional(item)), len(rest))
        items[:] = rest[:at] + browser + rest[at:]
    if on_postgres():
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=NEEDS_POSTGRES))


def pytest_terminal_summary(terminalreporter):
    """Name every PostgreSQL test that did not run. Read from the reports, so the list is
    whole when the tests ran in several processes (scripts/test) as in one."""
    skipped = sorted(
        {
            report.nodeid
            for report in terminalreporter.stats.get("skipped", [])
            if NEEDS_POSTGRES in str(report.longrepr)
        }
    )
    if skipped:
        terminalreporter.write_line(
            f"NOT RUN on SQLite: {len(skipped)} PostgreSQL tests "
            "(triggers, row locks, concurrency); they run when DATABASE_URL is PostgreSQL:",
            yellow=True,
        )
        for nodeid in skipped:
            terminalreporter.write_line(f"  {nodeid}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_POSTGRES and report.skipped and item.get_closest_marker("postgres"):
        report.outcome = "failed"
        report.longrepr = "PostgreSQL test skipped while LEDGER_REQUIRE_POSTGRES=1"


def _end_other_sessions(test_database: str) -> None:
    """End every other session on `test_database`, from a session on the `postgres` database.

    Through PgBouncer a test database has sessions after the test process lets go: the pool's
    idle server connections (PgBouncer reopens them when a database of that name is used
    again). PostgreSQL refuses to drop a database in use, so pytest-django's drop, and its
    drop of a test database left by an interrupted run, need them gone first. Directly there
    are none."""
    connection.close()
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [test_database],
        )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, django_db_blocker):
    """Before the test database is made: a leftover one of the same name is dropped by
    pytest-django, which needs its pooled sessions ended."""
    if on_postgres():
        with django_db_blocker.unblock():
            _end_other_sessions(connection.creation._get_test_db_name())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, dropped at the end even through PgBouncer (this
    teardown runs before pytest-django's, which drops it)."""
    yield
    if on_postgres():
        with django_db_blocker.unblock():
            _end_other_sessions(connection.settings_dict["NAME"])


@pytest.fixture
def direct_session():
    """A direct server session, for the tests that need one when the suite runs through
    PgBouncer (scripts/test then gives the server's own address in
    LEDGER_TEST_DIRECT_DATABASE_URL; otherwise the suite is direct already and this does
    nothing). Two kinds, both about server sessions rather than the app:

    - tests that end their own session (`pg_terminate_backend` of their `pg_backend_pid()`)
      to play a server restart or a cut connection: through PgBouncer that pid is a pooled
      server connection, which PgBouncer replaces while the client connection lives on;
    - the backup drill: pg_dump and pg_restore set session state (`search_path`), which
      through transaction pooling would stay on a pooled server connection; backups and
      restores connect to PostgreSQL itself (docs/OPERATIONS.md, "PgBouncer").

    The tests using it are transactional (no test transaction to keep open across the switch).
    """
    direct = os.environ.get("LEDGER_TEST_DIRECT_DATABASE_URL")
    if not direct:
        yield
        return
    url = urlsplit(direct)
    s = connection.settings_dict  # shared by every thread's connection to this alias
    saved = s["HOST"], s["PORT"]
    connection.close()
    s["HOST"], s["PORT"] = url.hostname, str(url.port or 5432)
    try:
        yield
    finally:
        connection.close()
        s["HOST"], s["PORT"] = saved


def _delete_every_row(style, tables, *, reset_sequences=False, allow_cascade=False):
    """PostgreSQL's flush as DELETEs: the same empty tables as Django's one TRUNCATE, without
    its cost (a TRUNCATE makes new files for every table: about a second per transactional
    test here, against a few milliseconds for deleting the handful of rows a test wrote).
    Every foreign key Django makes is DEFERRABLE INITIALLY DEFERRED, so the order is free;
    sequences are kept, as the TRUNCATE does without RESTART IDENTITY."""
    assert not reset_sequences  # TransactionTestCase resets sequences at set-up, not here
    quote = connection.ops.quote_name
    return [f"DELETE FROM {quote(table)};" for table in tables]


@pytest.fixture(scope="session", autouse=True)
def _flush_past_append_only_triggers():
    """Let transactional tests empty the journal between tests on PostgreSQL.

    Django's flush empties every table, which the append-only triggers refuse (as they
    should for everyone else); only this test teardown runs under `pgtrigger.ignore()`.
    """
    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        with pgtrigger.ignore():
            if not on_postgres():
                return original(self)
            with mock.patch.object(connection.ops, "sql_flush", _delete_every_row):
                return original(self)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


# Background tasks run in the test's own process, at once, when enqueued (django-tasks'
# immediate backend): the on-commit enqueue of a message delivers it to the test's mailbox.
# The worker, its retries and the schedule are tested with real processes on the database
# and Redis backends (tests/background/).
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="session", autouse=True)
def _tasks_run_at_once():
    with override_settings(TASKS=IMMEDIATE_TASKS):
        yield


TODAY = dt.datetime.now(dt.UTC).date()
CARD_FROM = TODAY - dt.timedelta(days=365)


@pytest.fixture
def admin(db):
    return UserFactory(username="admin1", is_superuser=True)


@pytest.fixture
def admin2(db):
    return UserFactory(username="admin2", is_superuser=True)


@pytest.fixture
def manager(admin, program):
    """A manager of `program` who is not an operator."""
    person = UserFactory(username="manager1")
    services.grant_role(actor=admin, program=program, user=person, role="manager")
    return person


@pytest.fixture
def artist(db):
    return UserFactory(username="artist1")


@pytest.fixture
def artist2(db):
    return UserFactory(username="artist2")


def make_program(admin, *, currency="USD", public=False, hourly="4500", **bounties):
    """A program with one rate card (from a year ago) in minor units."""
    program = services.create_program(
        actor=admin, name=f"Program {currency}", currency=currency, public=public
    )
    services.add_rate_card(
        actor=admin,
        program=program,
        effective_from=CARD_FROM,
        hourly_rate_minor=int(hourly),
        bounties={"low": 1000, "medium": 5000, "high": 20000, "critical": 50000} | bounties,
    )
    return program


@pytest.fixture
def program(admin, artist, artist2):
    program = make_program(admin)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    services.enroll_artist(actor=admin, program=program, artist=artist2)
    return program


# Banking: two valid IBANs, an artist's and a program's paying account, and the account digits
# of each, which nothing but a treasurer's payment file may show.
DE = "DE89370400440532013000"
PAYER = "DE02120300000000202051"
SECRETS = ("0532013000", "0000202051")


@pytest.fixture
def euro(admin, artist, artist2):
    """A program in euros (payment files are for EUR) with both artists as members."""
    program = make_program(admin, currency="EUR")
    for member in (artist, artist2):
        services.enroll_artist(actor=admin, program=program, artist=member)
    return program


@pytest.fixture
def euro_staff(admin, euro):
    """One person in each staff role of `euro`, by role."""
    people = {}
    for role in ("manager", "reviewer", "treasurer", "auditor"):
        people[role] = UserFactory(username=f"{role}-e")
        services.grant_role(actor=admin, program=euro, user=people[role], role=role)
    return people


def log_feedback(program, artist, hours="2.00", day=None, **kwargs):
    return services.submit_contribution(
        actor=artist,
        program=program,
        kind="feedback",
        title="Feedback session",
        occurred_on=day or clock.today(),
        hours=Decimal(hours),
        **kwargs,
    )


def log_bug(program, artist, severity="high", day=None):
    return services.submit_contribution(
        actor=artist,
        program=program,
        kind="bug_report",
        title="Crash on export",
        occurred_on=day or clock.today(),
        severity=severity,
    )


def accepted_work(program, artist, admin, hours="2.00"):
    """Submit and accept feedback; returns the accepted contribution."""
    return services.accept_contribution(
        contribution=log_feedback(program, artist, hours), actor=admin
    )


@pytest.fixture
def otp_clock(monkeypatch, settings):
    """django-otp's TOTP clock, moved by the test (`tests.second_factor.TotpClock`). Devices
    here do not make the next try wait after a wrong code (tests type fast); the lockout
    still counts every wrong one."""
    from django_otp.plugins.otp_totp import models as totp_models

    from tests.second_factor import TotpClock

    clock = TotpClock(float(int(time.time())))
    monkeypatch.setattr(totp_models, "time", clock)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    return clock


def rejected_work(program, artist, reviewer, hours="2.00"):
    """Submit feedback and reject it; returns the rejected contribution."""
    return services.reject_contribution(
        contribution=log_feedback(program, artist, hours), actor=reviewer, reason="Not in scope"
    )


def open_dispute_about_rejection(program, artist, reviewer):
    """Work of `artist` rejected by `reviewer`, and the artist's open dispute about it."""
    return services.open_dispute(
        actor=artist,
        subject=rejected_work(program, artist, reviewer),
        claim="rejection",
        statement="This was in scope: see the brief.",
    )
