"""The schedule in-process: slots, one claim per slot whoever ticks, jobs as commands or
functions, a missing command skipped; and `db_worker` is this project's command.

Two real worker processes ticking together: test_worker.py."""

import datetime as dt
import logging
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import get_commands, load_command_class
from django.db import connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker
from django_tasks_db.models import DBTaskResult

from ledger import clock
from ledger.background import schedule
from ledger.background.management.commands.db_worker import Command as OurWorker
from ledger.background.models import ScheduledRun
from tests.background import jobs

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
RECORD = {"record": {"every": 60, "call": "tests.background.jobs.record"}}


@pytest.fixture(autouse=True)
def _no_runs_recorded():
    jobs.RUNS.clear()
    yield
    jobs.RUNS.clear()


def test_db_worker_is_ours_and_still_django_tasks_dbs(settings):
    """Django takes a command from the first app listed that has it: ours comes before
    django_tasks_db, and extends its worker rather than replacing it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert get_commands()["db_worker"] == "ledger.background"
    command = load_command_class("ledger.background", "db_worker")
    assert isinstance(command, OurWorker) and isinstance(command, DatabaseWorker)
    parser = command.create_parser("manage.py", "db_worker")
    options = vars(parser.parse_args([]))
    assert options["schedule"] is True and options["queue_name"] == "default"
    assert vars(parser.parse_args(["--no-schedule", "--batch"]))["schedule"] is False


def test_slots_are_cut_from_the_epoch():
    moment = dt.datetime(2026, 3, 2, 9, 59, 59, 900000, tzinfo=dt.UTC)
    assert schedule.slot_of(moment, 3600) == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert schedule.slot_of(moment, 60) == dt.datetime(2026, 3, 2, 9, 59, tzinfo=dt.UTC)
    later = moment + dt.timedelta(seconds=0.1)
    assert schedule.slot_of(later, 3600) == dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_a_slot_runs_once_however_many_workers_tick(settings, django_capture_on_commit_callbacks):
    settings.LEDGER_SCHEDULE = RECORD
    first, second = schedule.Ticker(by="a"), schedule.Ticker(by="b")
    with django_capture_on_commit_callbacks(execute=True):
        with clock.frozen(T0 + dt.timedelta(seconds=5)):
            assert first.tick() == ["record"]
            assert second.tick() == []  # the same slot, claimed by the first
            assert first.tick() == []
        with clock.frozen(T0 + dt.timedelta(seconds=59)):
            assert second.tick() == [] and first.tick() == []
        with clock.frozen(T0 + dt.timedelta(seconds=61)):  # the next slot
            assert second.tick() == ["record"]
            assert first.tick() == []
    assert len(jobs.RUNS) == 2  # the immediate backend ran each enqueued run
    runs = ScheduledRun.objects.order_by("slot")
    assert [(r.job, r.slot, r.claimed_by) for r in runs] == [
        ("record", T0, "a"),
        ("record", T0 + dt.timedelta(minutes=1), "b"),
    ]


@pytest.mark.django_db
def test_a_ticker_asks_the_database_once_per_slot(settings, django_assert_num_queries):
    settings.LEDGER_SCHEDULE = RECORD
    ticker = schedule.Ticker()
    with clock.frozen(T0):
        ticker.tick()
        with django_assert_num_queries(0):
            assert ticker.tick() == []


@pytest.mark.django_db
def test_the_run_is_a_task_on_the_configured_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.LEDGER_SCHEDULE = RECORD
    with clock.frozen(T0):
        assert schedule.Ticker().tick() == ["record"]
    # In the test's block nothing committed: the task is enqueued after the claim commits.
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_run_is_enqueued_after_the_claim_commits(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.LEDGER_SCHEDULE = RECORD
    with clock.frozen(T0):
        assert schedule.Ticker().tick() == ["record"]
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "ledger.background.tasks.run_job"
    assert task.args_kwargs["args"] == ["record", T0.isoformat()]
    assert jobs.RUNS == []  # a worker runs it


@pytest.mark.django_db
def test_commands_run_with_their_arguments(settings, capsys):
    """A command job: here django-tasks-db's own pruning, as the default schedule runs it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    old = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="tests.background.jobs.record",
        queue_name="elsewhere",  # pruned only because the job says --queue-name=*
        backend_name="default",
        status="SUCCESSFUL",
        finished_at=clock.now() - dt.timedelta(days=15),
        run_after=clock.now() - dt.timedelta(days=15),
    )
    settings.LEDGER_SCHEDULE = {
        "prune": {"every": 86400, "command": "prune_db_task_results", "args": ["--queue-name=*"]}
    }
    schedule.run("prune", T0.isoformat())
    assert not DBTaskResult.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_the_default_schedule(settings):
    jobs_ = schedule.jobs()
    assert jobs_["mail-sweep"].every == 60
    assert jobs_["mail-sweep"].call == "ledger.background.outbox.sweep"
    assert (jobs_["apply-deadlines"].every, jobs_["apply-deadlines"].command) == (
        3600,
        "apply_deadlines",
    )
    assert jobs_["prune-task-results"].command in get_commands()


@pytest.mark.django_db
def test_a_job_whose_command_is_missing_is_skipped_with_a_warning(settings, caplog):
    settings.LEDGER_SCHEDULE = {"nothing": {"every": 60, "command": "no_such_command"}} | RECORD
    ticker = schedule.Ticker()
    with caplog.at_level(logging.WARNING, logger="ledger.background"):
        for minutes in (0, 1):
            with clock.frozen(T0 + dt.timedelta(minutes=minutes)):
                assert ticker.tick() == ["record"]
    warnings = [r.getMessage() for r in caplog.records if "no_such_command" in r.getMessage()]
    assert len(warnings) == 1  # once per process, not per tick
    assert not ScheduledRun.objects.filter(job="nothing").exists()


def test_a_malformed_schedule_is_refused(settings):
    settings.LEDGER_SCHEDULE = {"bad": {"every": 0, "call": "x.y"}}
    with pytest.raises(ImproperlyConfigured, match="bad"):
        schedule.jobs()
    settings.LEDGER_SCHEDULE = {"bad": {"every": 5, "call": "x.y", "command": "check"}}
    with pytest.raises(ImproperlyConfigured, match="one of"):
        schedule.jobs()


@pytest.mark.django_db
def test_old_claims_are_forgotten(settings):
    settings.LEDGER_SCHEDULE = RECORD
    with clock.frozen(T0):
        schedule.Ticker().tick()
    with clock.frozen(T0 + dt.timedelta(days=3)):
        schedule.Ticker().tick()
    assert list(ScheduledRun.objects.values_list("slot", flat=True)) == [T0 + dt.timedelta(days=3)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ticks_claim_a_slot_once(settings):
    settings.LEDGER_SCHEDULE = RECORD
    start, claimed = threading.Barrier(8), []

    def tick(number):
        try:
            start.wait(10)
            with clock.frozen(T0):
                claimed.extend(schedule.Ticker(by=str(number)).tick())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tick, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert claimed == ["record"]
    assert ScheduledRun.objects.count() == 1
    assert len(jobs.RUNS) == 1
