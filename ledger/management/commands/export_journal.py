from django.core.management.base import BaseCommand, CommandError

from ledger.exports.journal import FORMATS, stream_journal
from ledger.models import Program


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
        try:
            prog = Program.objects.get(pk=program)
        except Program.DoesNotExist:
            raise CommandError(f"No program {program}.") from None
        if output:
            with open(output, "w", encoding="utf-8", newline="\n") as out:
                out.writelines(stream_journal(prog, fmt))
            self.stderr.write(f"Wrote {fmt} journal of program {prog.pk} to {output}")
        else:
            for chunk in stream_journal(prog, fmt):
                self.stdout.write(chunk, ending="")
