"""When submitted work is due for review: the UTC date of its submission plus its program's
`review_within_days`. Kept in `Contribution.review_due_on` by the services (set at
submission, moved when the program's deadline changes), so "overdue" is an index range
(`ContributionQuerySet.overdue`)."""

import datetime as dt

from django.db import connection


def review_due_on(submitted_at: dt.datetime, days: int) -> dt.date:
    """The day work submitted at `submitted_at` is due for review under a `days` deadline."""
    return submitted_at.astimezone(dt.UTC).date() + dt.timedelta(days=days)


def review_within_days(program_id: int) -> int:
    """The program's review deadline as committed, for a submission in progress.

    On PostgreSQL under a KEY SHARE lock of the program row: the lock every insert naming the
    program takes anyway, so submissions never wait for each other, but a manager changing
    the deadline (`update_program` holds the row FOR UPDATE) and a submission are ordered:
    either the change's moving of the due dates sees the new work, or the work reads the new
    deadline. SQLite's IMMEDIATE transactions order them already.
    """
    lock = " FOR KEY SHARE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"{_DAYS_SQL}{lock}", [program_id])
        return cursor.fetchone()[0]


_DAYS_SQL = "SELECT review_within_days FROM ledger_program WHERE id = %s"


def move_review_due_dates(program_id: int, days: int) -> int:
    """Set every submitted contribution of the program due `days` after its submission's UTC
    date (`review_due_on`, in SQL): one UPDATE, whatever the number of rows. Returns how
    many rows it set. Call inside the transaction that changes the deadline."""
    with connection.cursor() as cursor:
        cursor.execute(_MOVE_SQL[connection.vendor], [days, program_id])
        return cursor.rowcount


# `review_due_on` in each database's date arithmetic; timestamps are stored in UTC (SQLite:
# ISO text, which date() reads).
_MOVE_SQL = {
    "postgresql": (
        "UPDATE ledger_contribution "
        "SET review_due_on = (submitted_at AT TIME ZONE 'UTC')::date + %s "
        "WHERE program_id = %s AND status = 'submitted'"
    ),
    "sqlite": (
        "UPDATE ledger_contribution "
        "SET review_due_on = date(submitted_at, '+' || %s || ' days') "
        "WHERE program_id = %s AND status = 'submitted'"
    ),
}
