import datetime as dt
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ledger import queries
from ledger.exports.checkpoint import statement_json
from ledger.exports.csv import statement_csv
from ledger.exports.pdf import statement_pdf
from ledger.models import Membership, Program


class Command(BaseCommand):
    help = (
        "Write an artist's statement for a program and period as JSON (the API's shape, "
        "checkable later with verify_statement), CSV or PDF."
    )

    def add_arguments(self, parser):
        parser.add_argument("--program", type=int, required=True)
        parser.add_argument("--artist", type=int, required=True, help="Artist (user) id.")
        parser.add_argument("--from", dest="date_from", type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", type=dt.date.fromisoformat)
        parser.add_argument("--format", dest="fmt", choices=["json", "csv", "pdf"], default="json")
        parser.add_argument("--output", help="File to write (required for pdf).")

    def handle(self, *args, program, artist, date_from, date_to, fmt, output=None, **options):
        prog = Program.objects.filter(pk=program).first()
        user = get_user_model().objects.filter(pk=artist).first()
        if prog is None or user is None:
            raise CommandError("No such program or artist.")
        if not Membership.objects.filter(program=prog, artist=user).exists():
            raise CommandError("This artist is not a member of the program.")
        statement = queries.statement(
            artist=user, program=prog, date_from=date_from, date_to=date_to
        )
        if fmt == "pdf":
            if not output:
                raise CommandError("--output is required for a PDF.")
            Path(output).write_bytes(statement_pdf(statement))
            return
        if fmt == "json":
            text = json.dumps(statement_json(statement), indent=2, ensure_ascii=False) + "\n"
        else:
            text = "".join(statement_csv(statement))
        if output:
            Path(output).write_text(text, encoding="utf-8", newline="")
        else:
            self.stdout.write(text, ending="")
