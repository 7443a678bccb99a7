"""CSV files: UTF-8, ISO dates, "." decimals, formula-looking cells neutralised, streamed.

Each function yields CSV text line by line so a view can wrap it in a StreamingHttpResponse
and memory does not grow with the number of rows.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from ledger.models import Membership, Payout, Program
from ledger.money import format_minor
from ledger.queries import Statement

# A cell a spreadsheet could take for a formula gets a leading apostrophe (OWASP guidance).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def iter_csv(header: Iterable[str], rows: Iterable[Iterable], *, raw_columns=()) -> Iterator[str]:
    """Yield CSV lines. Columns named in `raw_columns` (amounts) are written as they are."""
    header = list(header)
    raw = {header.index(name) for name in raw_columns}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line([cell if i in raw else neutralize(cell) for i, cell in enumerate(row)])


def statement_csv(statement: Statement) -> Iterator[str]:
    """The statement's lines: date, kind, description, amount, balance, currency, entry hash,
    and for a payment still standing whether the artist confirmed receiving it (`receipt`:
    confirmed | unconfirmed; empty on other lines). The receipt is last and outside the hashed
    columns: a confirmation posts nothing, so the chain cannot vouch for it."""
    cur = statement.currency
    return iter_csv(
        ["date", "kind", "description", "amount", "balance", "currency", "entry_hash", "receipt"],
        (
            [
                line.date.isoformat(),
                line.kind,
                line.description,
                format_minor(line.amount_minor, cur),
                format_minor(line.balance_minor, cur),
                cur,
                line.entry_hash,
                line.receipt or "",
            ]
            for line in statement.lines
        ),
        raw_columns=("amount", "balance"),
    )


def payout_batch(program: Program, *, paid_on: dt.date | None = None, payout_ids=None):
    """A batch: the paid (not void) payouts of `program` paid on `paid_on`, or those listed."""
    if (paid_on is None) == (payout_ids is None):
        raise ValueError("Give either paid_on or payout_ids.")
    payouts = Payout.objects.paid().filter(program=program)
    if paid_on is not None:
        return payouts.filter(paid_on=paid_on)
    return payouts.filter(pk__in=list(payout_ids))


@dataclass(frozen=True)
class BatchLine:
    """One artist's share of a batch: the sum of their payouts in it, and their references."""

    artist: object  # accounts.User
    currency: str
    total_minor: int
    references: str
    payout_ids: tuple[int, ...]


def payout_batch_lines(payouts) -> Iterator[BatchLine]:
    """The batch per artist (by artist id): one line each, their payouts summed.

    `payouts` is a queryset of one program's payouts (see `payout_batch`). The CSV and the
    bank payment file (`exports.sepa`) both read it, so both sum alike."""
    # One statement, so one snapshot: a payout voided while the batch is read must not leave
    # an artist's sum half before, half after, and a chunked read (each chunk at its own
    # moment) would. A day's batch is one program's payouts of one day: held whole, as its
    # lines are summed per artist anyway.
    rows = payouts.select_related("artist", "program").order_by("artist_id", "id")
    for _artist_id, group in groupby(rows, key=lambda p: p.artist_id):
        group = list(group)
        artist, cur = group[0].artist, group[0].program.currency
        if any(p.program.currency != cur for p in group):
            raise ValueError("A payout batch holds one currency.")
        yield BatchLine(
            artist=artist,
            currency=cur,
            total_minor=sum(p.amount_minor for p in group),
            references="; ".join(p.reference or f"payout {p.pk}" for p in group),
            payout_ids=tuple(p.pk for p in group),
        )


def payout_batch_csv(payouts) -> Iterator[str]:
    """One row per artist for a payment tool: name, email, amount, currency, reference.

    An artist with several payouts in the batch gets one row with their sum and their
    references joined (`payout_batch_lines`).
    """
    rows = (
        [
            str(line.artist),
            line.artist.email,
            format_minor(line.total_minor, line.currency),
            line.currency,
            line.references,
        ]
        for line in payout_batch_lines(payouts)
    )
    return iter_csv(
        ["name", "email", "amount", "currency", "reference"], rows, raw_columns=("amount",)
    )


def outstanding_csv(program: Program) -> Iterator[str]:
    """Per artist of `program`: valued work, paid, outstanding (negative = paid ahead)."""
    cur = program.currency
    # One statement, so one snapshot: chunks read at different moments, keyed on a name an
    # artist may change meanwhile, could list a renamed artist twice or not at all. One row
    # per member.
    members = (
        Membership.objects.filter(program=program)
        .select_related("artist")
        .order_by("artist__display_name", "artist_id")
    )
    return iter_csv(
        ["artist", "email", "valued", "paid", "outstanding", "currency"],
        (
            [
                str(m.artist),
                m.artist.email,
                format_minor(m.valued_minor, cur),
                format_minor(m.paid_minor, cur),
                format_minor(m.outstanding_minor, cur),
                cur,
            ]
            for m in members
        ),
        raw_columns=("valued", "paid", "outstanding"),
    )
