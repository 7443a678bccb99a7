"""What the export commands share: the program they name and where their text goes."""

from django.core.management.base import CommandError

from ledger.models import Program


def program_named(program_id: int) -> Program:
    """The program `--program` names, or the command's error."""
    try:
        return Program.objects.get(pk=program_id)
    except Program.DoesNotExist:
        raise CommandError(f"No program {program_id}.") from None


def write_text(command, chunks, output: str | None, *, newline: str) -> None:
    """Write the text `chunks` to the file `output` (UTF-8, line endings as `newline` says:
    open()'s meaning), or as they come to the command's standard output when there is none."""
    if output:
        with open(output, "w", encoding="utf-8", newline=newline) as out:
            out.writelines(chunks)
    else:
        for chunk in chunks:
            command.stdout.write(chunk, ending="")
