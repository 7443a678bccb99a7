"""Delete Idempotency-Keys past their retention (LEDGER_IDEMPOTENCY_RETENTION_HOURS, ≥ 24 h)."""

from django.core.management.base import BaseCommand

from ledger.api.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Keys older than the retention period (run it daily, e.g. cron)."

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"Deleted {deleted} expired idempotency keys.")
