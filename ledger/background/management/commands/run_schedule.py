"""`manage.py run_schedule`: the schedule without a database worker.

For the Redis task backend, whose worker (`manage.py rqworker`) runs tasks but keeps no
schedule: run this beside it (one or several; each slot is enqueued once whatever their
number). `--once` ticks once and exits, for cron (`* * * * *`). With the default database
backend `db_worker` already keeps the schedule and this is not needed.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from ledger.background import schedule


class Command(BaseCommand):
    help = "Enqueue the scheduled jobs (LEDGER_SCHEDULE) as their time comes."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Tick once, then exit (cron).")
        parser.add_argument(
            "--tick",
            type=float,
            default=settings.LEDGER_SCHEDULE_TICK_SECONDS,
            help="Seconds between two ticks (default: %(default)r).",
        )

    def handle(self, *args, once, tick, verbosity, **options):
        if once:
            for name in schedule.Ticker().tick():
                if verbosity:
                    self.stdout.write(f"enqueued {name}")
            return
        try:
            schedule.tick_forever(every=tick)
        except KeyboardInterrupt:
            return  # Ctrl-C: stop quietly
