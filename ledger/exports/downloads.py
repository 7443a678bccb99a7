"""File downloads as HTTP responses, shared by the API and the pages (one place for names,
content types and streaming)."""

import datetime as dt

from django.http import HttpResponse, StreamingHttpResponse

from ledger import routing
from ledger.models import Program
from ledger.queries import Statement

from .csv import outstanding_csv, payout_batch, payout_batch_csv, statement_csv
from .journal import stream_journal
from .pdf import statement_pdf

JOURNAL_FORMATS = {"hledger": "journal", "beancount": "beancount"}  # format → file extension


def attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv(lines, filename: str) -> StreamingHttpResponse:
    return attachment(
        StreamingHttpResponse(routing.keep_route(lines), content_type="text/csv; charset=utf-8"),
        filename,
    )


def _statement_name(statement: Statement, ext: str) -> str:
    return (
        f"statement-p{statement.program.pk}-a{statement.artist.pk}-{dt.date.today():%Y%m%d}.{ext}"
    )


def statement_csv_download(statement: Statement) -> StreamingHttpResponse:
    return _csv(statement_csv(statement), _statement_name(statement, "csv"))


def statement_pdf_download(statement: Statement) -> HttpResponse:
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    return attachment(response, _statement_name(statement, "pdf"))


def journal_download(program: Program, fmt: str) -> StreamingHttpResponse:
    """The program's journal for hledger or beancount, streamed (memory flat in its size)."""
    response = StreamingHttpResponse(
        routing.keep_route(stream_journal(program, fmt)), content_type="text/plain; charset=utf-8"
    )
    return attachment(response, f"program-{program.pk}.{JOURNAL_FORMATS[fmt]}")


def outstanding_download(program: Program) -> StreamingHttpResponse:
    return _csv(outstanding_csv(program), f"outstanding-p{program.pk}.csv")


def payout_batch_download(program: Program, paid_on: dt.date) -> StreamingHttpResponse:
    return _csv(
        payout_batch_csv(payout_batch(program, paid_on=paid_on)),
        f"payouts-p{program.pk}-{paid_on:%Y%m%d}.csv",
    )


def payment_file_download(*, actor, program: Program, paid_on: dt.date) -> HttpResponse:
    """The batch as a pain.001 file for the bank (`services.banking.payment_file`: the role,
    the currency, every artist's IBAN checked and the audit row committed first)."""
    from ledger.services import payment_file  # services write files from this package

    written = payment_file(actor=actor, program=program, paid_on=paid_on)
    response = HttpResponse(written.content, content_type="application/xml; charset=utf-8")
    return attachment(response, f"payouts-p{program.pk}-{paid_on:%Y%m%d}.pain.001.xml")
