"""The schedule: jobs run every so often by the worker itself (`LEDGER_SCHEDULE`).

    LEDGER_SCHEDULE = {
        "mail-sweep": {"every": 60, "call": "ledger.background.outbox.sweep"},
        "apply-deadlines": {"every": 3600, "command": "apply_deadlines"},
    }

A job is a management command (`command`, with optional `args`, run through `call_command`)
or a function (`call`, a dotted path). Time is cut into slots of `every` seconds counted from
the Unix epoch on `ledger.clock` (an hourly job's slots start on the hour, UTC). A tick claims
each job's current slot by inserting a `ScheduledRun` row, unique per job and slot, and when
its insert wins enqueues `tasks.run_job` for it after commit. So several workers may tick (and
`run_schedule` beside them): each slot is enqueued once. A slot nobody ticked in (every worker
down) is not made up later; the next one runs, and each job catches up by itself when it runs
(`apply_deadlines` and the sweep look at everything due, and are idempotent).

A job naming a command this installation does not have is skipped, with a warning once per
process.
"""

import datetime as dt
import functools
import logging
import os
import socket
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command, get_commands
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.utils.module_loading import import_string

from ledger import clock

from . import workers
from .models import ScheduledRun

logger = logging.getLogger("ledger.background")

# Claimed slots are kept this long at least (a record of what ran), then forgotten.
KEEP = dt.timedelta(days=2)


@dataclass(frozen=True)
class Job:
    name: str
    every: int  # seconds
    command: str = ""
    args: tuple[str, ...] = ()
    call: str = ""


def jobs() -> dict[str, Job]:
    """The jobs of `LEDGER_SCHEDULE`, checked."""
    result = {}
    for name, spec in settings.LEDGER_SCHEDULE.items():
        job = Job(
            name=name,
            every=int(spec.get("every", 0)),
            command=spec.get("command", ""),
            args=tuple(str(arg) for arg in spec.get("args", ())),
            call=spec.get("call", ""),
        )
        if job.every < 1 or bool(job.command) == bool(job.call):
            raise ImproperlyConfigured(
                f"LEDGER_SCHEDULE[{name!r}] needs `every` (seconds, at least 1) and one of "
                "`command` or `call`."
            )
        result[name] = job
    return result


def slot_of(moment: dt.datetime, every: int) -> dt.datetime:
    """The start of the `every`-second slot holding `moment` (UTC)."""
    seconds = int(moment.timestamp())
    return dt.datetime.fromtimestamp(seconds - seconds % every, dt.UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def claim(job: Job, slot: dt.datetime, *, by: str = "") -> bool:
    """Claim `slot` of `job` and enqueue its run after commit; False when it was claimed
    already (by this or another worker)."""
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(
                job=job.name, slot=slot, claimed_at=clock.now(), claimed_by=by or worker_name()
            )
            transaction.on_commit(
                functools.partial(enqueue, job.name, slot.isoformat()), robust=True
            )
    except IntegrityError:
        return False
    ScheduledRun.objects.filter(
        job=job.name, slot__lt=slot - max(KEEP, 10 * dt.timedelta(seconds=job.every))
    ).delete()
    return True


def enqueue(name: str, slot: str) -> None:
    from .tasks import run_job

    workers.ask(
        run_job,
        name,
        slot,
        what=f"Scheduled job {name} ({slot})",
        otherwise="this slot is lost, the next one runs",
    )


def run(name: str, slot: str) -> None:
    """Run job `name` (the body of `tasks.run_job`)."""
    job = jobs().get(name)
    if job is None:
        logger.warning("Scheduled job %s (%s) is no longer in LEDGER_SCHEDULE", name, slot)
        return
    logger.info("Running scheduled job %s (%s)", name, slot)
    if job.command:
        call_command(job.command, *job.args)
    else:
        import_string(job.call)()


class Ticker:
    """One process's view of the schedule: claims each job's current slot, remembering the
    slots it has seen so it asks the database once per slot, not once per tick."""

    def __init__(self, *, by: str = ""):
        self.by = by or worker_name()
        self.seen: dict[str, dt.datetime] = {}
        self.warned: set[str] = set()

    def tick(self, moment: dt.datetime | None = None) -> list[str]:
        """Claim and enqueue the slots now due; returns the names of the jobs enqueued."""
        moment = moment or clock.now()
        enqueued = []
        for job in jobs().values():
            slot = slot_of(moment, job.every)
            if self.seen.get(job.name) == slot or not self.runnable(job):
                continue
            if claim(job, slot, by=self.by):
                enqueued.append(job.name)
            self.seen[job.name] = slot
        return enqueued

    def runnable(self, job: Job) -> bool:
        if not job.command or job.command in get_commands():
            return True
        if job.name not in self.warned:
            self.warned.add(job.name)
            logger.warning(
                "Scheduled job %s skipped: no command %r in this installation",
                job.name,
                job.command,
            )
        return False


def tick_forever(*, every: float, stop: threading.Event | None = None) -> None:
    """Tick every `every` seconds until `stop` is set. A tick that fails (the database is
    down) is logged and the next one tried."""
    ticker, stop = Ticker(), stop or threading.Event()
    while True:
        try:
            ticker.tick()
        except DatabaseError as error:
            logger.warning("Schedule tick failed: %s", error)
        except Exception:
            logger.exception("Schedule tick failed")
        finally:
            close_old_connections()
        if stop.wait(every):
            return
