from django.core.management.base import BaseCommand

from ledger import services


class Command(BaseCommand):
    help = (
        "Apply the programs' review deadlines as of today (UTC, the app's clock): accept "
        "overdue work where the program accepts it automatically, and remind reviewers of "
        "the rest. Idempotent: a second run changes nothing. Run it daily (cron or the task "
        "worker's schedule)."
    )

    def handle(self, *args, **options):
        run = services.apply_deadlines()
        self.stdout.write(run.summary())
