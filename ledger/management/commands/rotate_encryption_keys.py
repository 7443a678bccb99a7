"""Re-encrypt every encrypted column with the first key of LEDGER_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand

from ledger import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt banking details and webhook secrets with the first key of "
        "LEDGER_ENCRYPTION_KEYS, so older keys can then be dropped (ledger/crypto.py)."
    )

    def handle(self, *args, **options):
        for label, count in crypto.rotate_all().items():
            self.stdout.write(f"{label}: {count} row(s) re-encrypted")
