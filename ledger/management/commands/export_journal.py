from django.core.management.base import BaseCommand

from ledger.exports.journal import FORMATS, stream_journal
from ledger.management.files import program_named, write_text


# Alike export_csv's head in shape only: each command declares its own help and arguments,
# which is what `manage.py help` shows; the shared steps live in ledger.management.files.
class Command(BaseCommand):
    help = (
        "Write a program's journal for hledger or beancount (every entry, account declarations "
        "and a balance assertion per account), streamed to stdout or a file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--program", type=int, required=True, help="Program id.")
        parser.add_argument("--format", choices=FORMATS, required=True, dest="fmt")
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, program, fmt, output=None, **options):
        prog = program_named(program)
        write_text(self, stream_journal(prog, fmt), output, newline="\n")
        if output:
            self.stderr.write(f"Wrote {fmt} journal of program {prog.pk} to {output}")
