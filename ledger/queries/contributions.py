"""Contribution rows as the API lists them."""

from django.db import connection

from ledger import access, clock
from ledger.models import (
    Contribution,
)
from ledger.models.contributions import OVERDUE_SQL

from .rows import SqlRows

_CONTRIBUTION_ROWS_SELECT = (
    "SELECT c.id, c.program_id AS program, c.artist_id AS artist, c.kind, c.title, "
    "c.description, c.occurred_on, c.hours, c.severity, c.reference, c.status, c.value_minor, "
    "c.submitted_at, c.reviewed_at, c.reviewed_by_id AS reviewed_by, c.review_note, "
    "c.review_due_on, p.currency "
    "FROM ledger_contribution c JOIN ledger_program p ON p.id = c.program_id"
)


def contribution_rows(
    user,
    *,
    id: int | None = None,
    program: int | None = None,
    artist: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    overdue: bool | None = None,
) -> SqlRows:
    """The API's contribution rows (its list, its detail and what the review actions answer),
    newest submission first, of the work `user` sees (`access.scope_of`); `overdue` True or
    False keeps only work that is, or is not, overdue for review today (`OVERDUE_SQL`)."""
    conditions = access.scope_of(user).sql("c.artist_id", "c.program_id")
    for column, value in (
        ("c.id", id),
        ("c.program_id", program),
        ("c.artist_id", artist),
        ("c.status", status),
        ("c.kind", kind),
    ):
        if value is not None:
            conditions.append((f"{column} = %s", [value]))
    if overdue is not None:
        today = connection.ops.adapt_datefield_value(clock.today())
        conditions.append((OVERDUE_SQL if overdue else f"NOT {OVERDUE_SQL}", [today]))
    return SqlRows(
        _CONTRIBUTION_ROWS_SELECT, conditions, "c.submitted_at DESC, c.id DESC", Contribution
    )
