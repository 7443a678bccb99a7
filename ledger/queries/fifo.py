"""First in, first out: which accepted work an artist's payments paid, and what is unpaid.

The one home of the matching, in SQL (`FIFO_CTE`), for the report's median days to payment
(`report_cache`), for what each balance has unpaid (`unpaid_work`: `overdue`,
`oldest_unpaid_on`) and for the report's `overdue_outstanding`.

Per artist and program, payments (grants and settlements not voided, in `paid_on`, id order)
settle accepted, unreversed, nonzero work oldest review first (`reviewed_at`, id). Done by the
database in one pass, in running sums (loading every row into Python took a second at 900k
postings): work item i, with W(i) the running sum of its artist's accepted values up to and
including it, is completed by the first payment whose running sum P(j) reaches W(i). Values
and amounts are > 0 (check constraints), so both running sums strictly increase and
`paid_on` never decreases along the payments. Merged per artist and read from the largest
running sum down (a payment before work on equal sums: P(j) = W(i) completes i), the earliest
`paid_on` seen so far is the completing payment's date (`paid_on`); work with none seen is
not fully paid yet, and of it W(i) − P is unpaid (P, all the artist's payments), at most its
value: the oldest such item may be partly paid, the later ones not at all.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from ledger import routing

# The matching as three CTEs (`WITH` + this), for the rows that `{work}` (contributions,
# aliased c) and `{payments}` (payouts, aliased p) select: SQL conditions with placeholders,
# constant text written by the callers. `{key}` names whose payments pay whose work: "artist_id"
# within one program (the report's statement, whose plan then merges the two index scans in
# artist order: a key with the program in it made PostgreSQL sort everything again, 1.5 times
# the statement's time), "program_id, artist_id" across programs. `work` is one row per work
# item: its `{key}` columns, `accepted_on`, `paid_on` (the completing payment's date, NULL
# while not fully paid) and `unpaid` (minor units). Status literals are
# ContributionStatus.ACCEPTED and PayoutStatus.PAID, written out so PostgreSQL matches the
# partial indexes contribution_accepted_fifo and payout_paid_fifo; sums are minor units.
FIFO_CTE = """
stream AS (
    SELECT {key}, 0 AS is_payment, accepted_on AS day, value_minor AS amount,
           SUM(value_minor) OVER (
               PARTITION BY {key} ORDER BY reviewed_at, id ROWS UNBOUNDED PRECEDING
           ) AS upto
      FROM ledger_contribution c
     WHERE c.status = 'accepted' AND c.value_minor <> 0 AND {work}
    UNION ALL
    SELECT {key}, 1, paid_on, amount_minor,
           SUM(amount_minor) OVER (
               PARTITION BY {key} ORDER BY paid_on, id ROWS UNBOUNDED PRECEDING
           )
      FROM ledger_payout p
     WHERE p.status = 'paid' AND {payments}
), settled AS (
    SELECT {key}, is_payment, day AS accepted_on, amount, upto,
           MIN(CASE WHEN is_payment = 1 THEN day END) OVER (
               PARTITION BY {key} ORDER BY upto DESC, is_payment DESC ROWS UNBOUNDED PRECEDING
           ) AS paid_on,
           COALESCE(MAX(CASE WHEN is_payment = 1 THEN upto END) OVER (PARTITION BY {key}), 0)
               AS paid
      FROM stream
), work AS (
    SELECT {key}, accepted_on, paid_on,
           CASE WHEN paid_on IS NOT NULL THEN 0
                WHEN upto - paid < amount THEN upto - paid
                ELSE amount END AS unpaid
      FROM settled
     WHERE is_payment = 0
)"""


# What is unpaid of the chosen artists' work, per (program, artist, day of acceptance).
_UNPAID_SELECT = """
SELECT program_id, artist_id, accepted_on, SUM(unpaid) FROM work
 WHERE paid_on IS NULL
 GROUP BY program_id, artist_id, accepted_on
"""
_UNPAID_SQL = "WITH " + FIFO_CTE + _UNPAID_SELECT  # constant SQL  # nosec B608


_PAIRS_PER_STATEMENT = 200  # ids in the IN lists: at most 800 parameters a statement


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def unpaid_work(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], dict[dt.date, int]]:
    """What is unpaid of each (program id, artist id)'s accepted work, by day of acceptance
    (minor units): pairs with nothing unpaid are left out. One statement per 200 pairs, so a
    page of balances costs one, never one per row."""
    pairs = sorted(set(pairs))
    found: dict[tuple[int, int], dict[dt.date, int]] = {}
    for start in range(0, len(pairs), _PAIRS_PER_STATEMENT):
        chunk = pairs[start : start + _PAIRS_PER_STATEMENT]
        programs = sorted({program for program, _ in chunk})
        artists = sorted({artist for _, artist in chunk})
        # Only placeholders are formatted into the SQL, never a value. Every artist of the
        # chunk in every program of it: a superset of the pairs (each pair's matching is its
        # own), cut to the pairs asked for below.
        in_programs = f"IN ({', '.join(['%s'] * len(programs))})"
        in_artists = f"IN ({', '.join(['%s'] * len(artists))})"
        sql = _UNPAID_SQL.format(
            key="program_id, artist_id",
            work=f"c.program_id {in_programs} AND c.artist_id {in_artists}",
            payments=f"p.program_id {in_programs} AND p.artist_id {in_artists}",
        )
        wanted = set(chunk)
        with routing.read_connection().cursor() as cursor:
            cursor.execute(sql, [*programs, *artists, *programs, *artists])
            for program_id, artist_id, accepted_on, unpaid in cursor.fetchall():
                if (program_id, artist_id) in wanted:
                    days = found.setdefault((program_id, artist_id), {})
                    days[_as_date(accepted_on)] = int(unpaid)
    return found


# --- deadlines for payment -----------------------------------------------------------------


def pay_cutoff(pay_within_days: int, today: dt.date) -> dt.date:
    """Work accepted before this day was accepted more than `pay_within_days` ago: what is
    unpaid of it is overdue on `today`."""
    return today - dt.timedelta(days=pay_within_days)


@dataclass(frozen=True)
class PayDeadline:
    """An artist's unpaid work against its program's payment deadline (minor units)."""

    overdue_minor: int  # unpaid, of work accepted more than `pay_within_days` ago
    oldest_unpaid_on: dt.date | None  # the acceptance day of the oldest work not fully paid


NOTHING_UNPAID = PayDeadline(0, None)


def pay_deadline(unpaid: dict[dt.date, int], cutoff: dt.date) -> PayDeadline:
    """The figures of one artist's unpaid work (`unpaid_work`) against `cutoff`
    (`pay_cutoff`)."""
    if not unpaid:
        return NOTHING_UNPAID
    return PayDeadline(overdue_of(unpaid.items(), cutoff), min(unpaid))


def overdue_of(unpaid: Iterable[tuple[dt.date, int]], cutoff: dt.date) -> int:
    """The part of `unpaid` ((day of acceptance, minor units) pairs) accepted before
    `cutoff`: overdue for payment."""
    return sum(amount for day, amount in unpaid if day < cutoff)
