"""`manage.py db_worker`: django-tasks-db's worker, which also keeps the schedule.

This app is listed before `django_tasks_db` in INSTALLED_APPS, so this command is the one
`db_worker` names. It runs the tasks of the database backend exactly as django-tasks-db's
does (every option of it works), and beside them, in a thread, ticks the schedule
(`LEDGER_SCHEDULE`: the outbox sweep every minute, `apply_deadlines` every hour) every
`--tick` seconds. With `--batch` it ticks once, then runs what is ready and exits (for cron).
`--no-schedule` runs tasks only.
"""

import os
import threading
from argparse import BooleanOptionalAction

from django.conf import settings
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from ledger.background import schedule


class Command(db_worker.Command):
    help = (
        "Run the background worker of the database task backend, and the schedule "
        "(LEDGER_SCHEDULE) beside it."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--schedule",
            action=BooleanOptionalAction,
            default=True,
            help="Tick the schedule (LEDGER_SCHEDULE) in this worker (default: on).",
        )
        parser.add_argument(
            "--tick",
            type=db_worker.valid_interval,
            default=settings.LEDGER_SCHEDULE_TICK_SECONDS,
            help="Seconds between two ticks of the schedule (default: %(default)r).",
        )

    def handle(self, *args, **options):
        if options["schedule"]:
            if options["batch"]:
                schedule.Ticker().tick()
            elif not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                # Not in the autoreloader's parent process, which only watches the files.
                threading.Thread(
                    target=schedule.tick_forever,
                    kwargs={"every": options["tick"]},
                    name="schedule",
                    daemon=True,
                ).start()
        super().handle(*args, **options)
