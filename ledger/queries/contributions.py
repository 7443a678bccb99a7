"""Contribution rows as the API lists them."""

from ledger import access
from ledger.models import (
    Contribution,
)

from .rows import SqlRows

_CONTRIBUTION_ROWS_SELECT = (
    "SELECT c.id, c.program_id AS program, c.artist_id AS artist, c.kind, c.title, "
    "c.description, c.occurred_on, c.hours, c.severity, c.reference, c.status, c.value_minor, "
    "c.submitted_at, c.reviewed_at, c.reviewed_by_id AS reviewed_by, c.review_note, p.currency "
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
) -> SqlRows:
    """The API's contribution rows (its list, its detail and what the review actions answer),
    newest submission first, of the work `user` sees (`access.scope_of`)."""
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
    return SqlRows(
        _CONTRIBUTION_ROWS_SELECT, conditions, "c.submitted_at DESC, c.id DESC", Contribution
    )
