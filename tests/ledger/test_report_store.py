"""The report's figures stored in the database: shared by every process, refreshed safely by
several at once (`ledger/queries/report_cache.py`)."""

import json
import os
import subprocess
import sys
import threading

import pytest
from django.db import connection

from ledger import queries, services
from ledger.queries import report_cache
from tests.ledger.test_report_median import busy_program, fresh_report, stored_figures
from tests.ops.helpers import ROOT, database_url

__all__ = ["busy_program"]  # a fixture, used by name

# A fresh process: Django set up, nothing else read; its first report, with the figures'
# reads counted. Prints JSON.
CHILD = """
import json, sys, django
django.setup()
from ledger import queries
from ledger.models import Program
from ledger.queries import report_cache
calls = []
read = report_cache.read_artist_work
def spy(program, artist_ids=None):
    calls.append(None if artist_ids is None else sorted(artist_ids))
    return read(program, artist_ids)
report_cache.read_artist_work = spy
report = queries.program_report(Program.objects.get(pk=int(sys.argv[1])))
print(json.dumps({"calls": calls, "contributors": report.contributors,
                  "hours": str(report.feedback_hours), "median": str(report.median_days_to_payment),
                  "overdue": report.overdue_outstanding_minor}))
"""


def first_report_of_a_fresh_process(program) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "DATABASE_URL"))
    }
    env |= {
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "ledger.settings",
        "DJANGO_DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(program.pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def as_child_reports(report) -> dict:
    return {
        "contributors": report.contributors,
        "hours": str(report.feedback_hours),
        "median": str(report.median_days_to_payment),
        "overdue": report.overdue_outstanding_minor,
    }


@pytest.mark.django_db(transaction=True)
def test_a_fresh_process_answers_from_the_stored_figures(busy_program):
    """Another process's report stored the figures: a new process's first report reads them,
    recomputing no artist; with the store emptied, it computes them all and stores them."""
    admin, artists, program = busy_program
    report = queries.program_report(program)  # this process stores the figures
    child = first_report_of_a_fresh_process(program)
    assert child.pop("calls") == []
    assert child == as_child_reports(report)
    # One artist moved since: the new process recomputes that artist only.
    services.record_payout(
        actor=admin, artist=artists[1], program=program, amount_minor=100, kind="grant"
    )
    child = first_report_of_a_fresh_process(program)
    assert child.pop("calls") == [[artists[1].pk]]
    assert child == as_child_reports(fresh_report(program))
    report_cache.forget(program)
    child = first_report_of_a_fresh_process(program)
    assert child.pop("calls") == [None]  # cold: every artist, then stored
    assert stored_figures(program) == report_cache.from_scratch(program)


@pytest.mark.django_db(transaction=True)
def test_a_report_reads_the_store_not_process_memory(busy_program, monkeypatch):
    """Figures stored by someone else (here written straight into the tables, as another
    server would) are what the next report answers: nothing of them is held in the process."""
    _, _, program = busy_program
    queries.program_report(program)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tally FROM ledger_reportfigures WHERE program_id = %s", [program.pk])
        tally = json.loads(cursor.fetchone()[0])
        tally["bugs"] += 7  # a marker no computation would produce
        cursor.execute(
            "UPDATE ledger_reportfigures SET tally = %s WHERE program_id = %s",
            [json.dumps(tally), program.pk],
        )
    monkeypatch.setattr(report_cache, "read_artist_work", lambda *a: pytest.fail("recomputed"))
    assert queries.program_report(program).bug_reports_accepted == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", [True, False])
def test_concurrent_refreshes_store_once_and_agree(busy_program, monkeypatch, first):
    """Two servers refresh the same program at once, from the same generation (held together
    inside their snapshots): one stores, the other finds the generation moved and stores
    nothing; both answer exactly, and the store stays the sum of its artists' rows. `first`:
    nothing stored yet (both insert the program's row); otherwise a partial refresh."""
    admin, artists, program = busy_program
    if not first:
        queries.program_report(program)
        for artist in artists[:2]:
            services.record_payout(
                actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
            )
    before = report_cache.stored(program)
    expected = fresh_report(program)
    both_inside = threading.Barrier(2, timeout=20)
    read = report_cache.read_artist_work

    def held(program, artist_ids=None):
        both_inside.wait()  # both have read the stored generation in their snapshots
        return read(program, artist_ids)

    monkeypatch.setattr(report_cache, "read_artist_work", held)
    stores, results, errors = [], [], []
    store = report_cache._store

    def counted_store(*args, **kwargs):
        stored = store(*args, **kwargs)
        stores.append(stored)
        return stored

    monkeypatch.setattr(report_cache, "_store", counted_store)

    def refresh():
        try:
            results.append(queries.program_report(program))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected, expected]
    assert sorted(stores) == [False, True]
    row, _ = report_cache.stored(program)
    assert row.generation == (before[0].generation if before else 0) + 1
    monkeypatch.setattr(report_cache, "read_artist_work", read)
    assert stored_figures(program) == report_cache.from_scratch(program)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_never_stores_over_an_emptied_store(busy_program, monkeypatch):
    """`forget` moves the generation on: a refresh that read the store before it stores
    nothing after it (its figures would build on rows that are gone)."""
    admin, artists, program = busy_program
    queries.program_report(program)
    services.record_payout(
        actor=admin, artist=artists[0], program=program, amount_minor=100, kind="grant"
    )
    inside, forgotten = threading.Event(), threading.Event()
    read = report_cache.read_artist_work

    def held(program, artist_ids=None):
        inside.set()
        assert forgotten.wait(20)
        return read(program, artist_ids)

    monkeypatch.setattr(report_cache, "read_artist_work", held)
    results = []

    def refresh():
        try:
            results.append(queries.program_report(program))
        finally:
            connection.close()

    thread = threading.Thread(target=refresh)
    thread.start()
    assert inside.wait(20)
    report_cache.forget(program)
    forgotten.set()
    thread.join()
    monkeypatch.setattr(report_cache, "read_artist_work", read)
    assert results == [fresh_report(program)]
    row, rows = report_cache.stored(program)
    assert row.at is None and rows == {}  # still empty: the refresh lost


@pytest.mark.django_db(transaction=True)
def test_a_report_answers_when_its_figures_cannot_be_stored(busy_program, monkeypatch, caplog):
    """The store is a cache: a write that fails (a lock wait timed out) leaves the report's
    answer exact, logs, and a later report stores."""
    from django.db import OperationalError

    _, _, program = busy_program
    expected = fresh_report(program)

    def down(*args, **kwargs):
        raise OperationalError("canceling statement due to lock timeout")

    store = report_cache._store
    monkeypatch.setattr(report_cache, "_store", down)
    assert queries.program_report(program) == expected
    assert "not stored: canceling statement due to lock timeout" in caplog.text
    assert report_cache.stored(program) is None
    monkeypatch.setattr(report_cache, "_store", store)
    assert queries.program_report(program) == expected
    assert stored_figures(program) == report_cache.from_scratch(program)
