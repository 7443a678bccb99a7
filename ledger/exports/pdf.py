"""The artist statement as a PDF, rendered by WeasyPrint from the same template the HTML
statement page includes (`templates/statements/statement.html`)."""

import datetime as dt
from functools import cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from ledger.models import EntryKind
from ledger.money import display
from ledger.queries import Statement

CSS_PATH = Path(settings.BASE_DIR) / "static" / "css" / "statement.css"


@cache
def statement_css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def _period(date_from: dt.date | None, date_to: dt.date | None) -> str:
    if date_from and date_to:
        return f"{date_from.isoformat()} to {date_to.isoformat()}"
    if date_from:
        return f"from {date_from.isoformat()}"
    if date_to:
        return f"up to {date_to.isoformat()}"
    return "all entries"


def statement_context(statement: Statement, *, made_at: dt.datetime | None = None) -> dict:
    """What `statements/statement.html` shows: every amount formatted via `money.display`."""
    cur = statement.currency
    made_at = made_at or timezone.now()
    return {
        "program": statement.program.name,
        "artist": str(statement.artist),
        "email": getattr(statement.artist, "email", ""),
        "currency": cur,
        "period": _period(statement.date_from, statement.date_to),
        "opening": display(statement.opening_minor, cur),
        "closing": display(statement.closing_minor, cur),
        "closing_minor": statement.closing_minor,
        "head_hash": statement.head_hash,
        "made_at": made_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # Payments of the period still standing, by whether the artist confirmed receiving
        # them (the artist's word, not the chain's: not part of the checkpoint).
        "has_payments": any(line.receipt for line in statement.lines),
        "confirmed": display(statement.payments_minor("confirmed"), cur),
        "unconfirmed": display(statement.payments_minor("unconfirmed"), cur),
        "lines": [
            {
                "date": line.date.isoformat(),
                "kind": EntryKind(line.kind).label,
                "description": line.description,
                "amount": display(line.amount_minor, cur),
                "negative": line.amount_minor < 0,
                "balance": display(line.balance_minor, cur),
                "receipt": line.receipt,
            }
            for line in statement.lines
        ],
    }


def statement_html(statement: Statement) -> str:
    """The standalone printable document (the fragment plus page styles)."""
    return render_to_string(
        "statements/statement_pdf.html",
        {"statement": statement_context(statement), "css": statement_css()},
    )


def statement_pdf(statement: Statement) -> bytes:
    """The statement as PDF bytes. No network: the document references no external resource."""
    from weasyprint import HTML

    def no_fetch(url, *args, **kwargs):
        raise ValueError(f"statement PDFs load no external resources ({url})")

    return HTML(string=statement_html(statement), url_fetcher=no_fetch).write_pdf()
