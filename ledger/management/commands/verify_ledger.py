from django.core.management.base import BaseCommand, CommandError

from ledger.models import Program
from ledger.verify import verify_program


class Command(BaseCommand):
    help = (
        "Recompute every entry, account balance and the hash chain from the stored postings; "
        "print each program's head hash; exit non-zero naming the first discrepancy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--program", type=int, help="Only this program id.")

    def handle(self, *args, program=None, **options):
        programs = Program.objects.order_by("id")
        if program is not None:
            programs = programs.filter(pk=program)
            if not programs.exists():
                raise CommandError(f"No program {program}.")
        failed = None
        for p in programs:
            result = verify_program(p)
            status = "ok" if result.ok else "FAILED"
            self.stdout.write(
                f"program {p.pk} ({p.name}): {status}; {result.entries_checked} entries, "
                f"{result.postings_checked} postings; head {result.head_hash or '-'}"
            )
            for problem in result.problems:
                self.stdout.write(f"  - {problem}")
            if not result.ok and failed is None:
                failed = f"program {p.pk}: {result.problems[0]}"
        if failed:
            raise CommandError(f"Ledger verification failed: {failed}")
