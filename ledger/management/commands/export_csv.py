import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from ledger.exports.csv import outstanding_csv, payout_batch, payout_batch_csv
from ledger.management.files import program_named, write_text


class Command(BaseCommand):
    help = (
        "Write a CSV: the payout batch of a program (paid on one date, or listed payout ids; "
        "one row per artist for a payment tool) or its outstanding liabilities per artist."
    )

    def add_arguments(self, parser):
        parser.add_argument("--program", type=int, required=True, help="Program id.")
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--outstanding", action="store_true", help="Outstanding per artist.")
        what.add_argument("--paid-on", type=dt.date.fromisoformat, help="Batch: YYYY-MM-DD.")
        what.add_argument("--payout-ids", help="Batch: comma-separated payout ids.")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, program, outstanding, paid_on, payout_ids, output=None, **options):
        prog = program_named(program)
        if outstanding:
            lines = outstanding_csv(prog)
        else:
            ids = None
            if payout_ids is not None:
                try:
                    ids = [int(part) for part in payout_ids.split(",") if part.strip()]
                except ValueError:
                    raise CommandError("--payout-ids takes numbers separated by commas.") from None
            lines = payout_batch_csv(payout_batch(prog, paid_on=paid_on, payout_ids=ids))
        write_text(self, lines, output, newline="")  # CSV: the rows carry their own \r\n
