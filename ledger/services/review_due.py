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

    On PostgreSQL under a SHARE lock of the program row, which a manager changing the
    deadline (`update_program`, FOR NO KEY UPDATE) waits for and makes wait: either the
    change's move of the due dates sees the new work, or the work reads the new deadline.
    Submissions never wait for each other, nor for the ledger's inserts naming the program
    (KEY SHARE). SQLite's IMMEDIATE transactions order them already.
    """
    lock = " FOR SHARE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"{_DAYS_SQL}{lock}", [program_id])
        return cursor.fetchone()[0]


_DAYS_SQL = "SELECT review_within_days FROM ledger_program WHERE id = %s"


def move_review_due_dates(program_id: int, days: int) -> int:
    """Set every submitted contribution of the program due `days` after its submission's UTC
    date (`review_due_on`, in SQL), whatever the number of rows; returns how many it set.

    The rows are locked in id order first (two statements, not one): the reminders of
    `apply_deadlines` lock the same rows in that order, and an UPDATE alone would take them in
    the order it finds them, a deadlock waiting to happen. Call inside the transaction that
    changes the deadline, holding the program row (`update_program`).
    """
    with connection.cursor() as cursor:
        if connection.features.has_select_for_update:
            cursor.execute(_LOCK_SQL, [program_id])
        cursor.execute(_MOVE_SQL[connection.vendor], [days, program_id])
        return cursor.rowcount


_LOCK_SQL = (
    "SELECT id FROM ledger_contribution WHERE program_id = %s AND status = 'submitted' "
    "ORDER BY id FOR UPDATE"
)


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
