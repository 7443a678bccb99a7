from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ledger.exports.checkpoint import verify_statement


class Command(BaseCommand):
    help = (
        "Check a statement (the API's JSON, or the statement CSV) against the ledger: its head "
        "hash must be in the chain, the chain must verify up to it, and the statement "
        "recomputed as of that entry must match line by line. Exits non-zero on a discrepancy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True, help="statement.json or statement.csv")

    def handle(self, *args, file, **options):
        try:
            text = Path(file).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        result = verify_statement(text)
        if not result.ok:
            raise CommandError(f"Statement does not match the ledger: {result.problem}")
        self.stdout.write(
            f"ok: the statement matches the chain at seq {result.head_seq} "
            f"({result.entries_checked} entries recomputed)"
        )
