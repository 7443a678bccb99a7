"""CSV files: UTF-8, ISO dates, "." decimals, formula-looking cells neutralised, streamed.

Each function yields CSV text line by line so a view can wrap it in a StreamingHttpResponse
and memory does not grow with the number of rows.
"""

import csv
import io
from collections.abc import Iterable, Iterator

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
    """The statement's lines: date, kind, description, amount, balance, currency, entry hash."""
    cur = statement.currency
    return iter_csv(
        ["date", "kind", "description", "amount", "balance", "currency", "entry_hash"],
        (
            [
                line.date.isoformat(),
                line.kind,
                line.description,
                format_minor(line.amount_minor, cur),
                format_minor(line.balance_minor, cur),
                cur,
                line.entry_hash,
            ]
            for line in statement.lines
        ),
        raw_columns=("amount", "balance"),
    )
