"""The report's posted-work figures, kept per artist between reads and recomputed only for the
artists whose payable moved."""

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import connection

from ledger.models import (
    LedgerHead,
    Program,
)

from .fifo import FIFO_CTE


def median_of_histogram(histogram: list[tuple[int, int]]) -> Decimal | None:
    """`statistics.median` of the values that `histogram` ((value, count), by value) counts.

    The mean of the two middle values when the count is even; quantized to 0.1, half even.
    Exact: Decimal halves of integers, no float.
    """
    total = sum(count for _, count in histogram)
    if not total:
        return None
    low_at, high_at = (total - 1) // 2, total // 2  # 0-based positions of the middle values
    low = high = None
    seen = 0
    for value, count in histogram:
        if low is None and low_at < seen + count:
            low = value
        if high_at < seen + count:
            high = value
            break
        seen += count
    return ((Decimal(low) + Decimal(high)) / 2).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


@dataclass(frozen=True)
class WorkCounts:
    artist_ids: frozenset[int]  # artists with accepted work
    hours_x100: int  # accepted feedback hours, in hundredths of an hour
    bugs: int  # accepted bug reports
    median_days: Decimal | None = None
    # What is unpaid of accepted work, by day of acceptance (minor units), oldest day first.
    unpaid: tuple[tuple[dt.date, int], ...] = ()


# Accepted feedback hours as integer hundredths (exact on SQLite too, where a DECIMAL column
# holds floats) and accepted bug reports: summed over the contributions `c`.
HOURS_X100 = (
    "SUM(CASE WHEN c.kind = 'feedback' THEN CAST(ROUND(c.hours * 100) AS BIGINT) ELSE 0 END)"
)


BUGS = "SUM(CASE WHEN c.kind = 'bug_report' THEN 1 ELSE 0 END)"


# The program's payable accounts and their balance rows' versions (entries applied): read in
# full on every report that is not a hit, ~3,000 rows at Bench B through the unique index
# account_artist_kind_unique (program, kind, artist) WHERE artist IS NOT NULL.
_PAYABLES = (
    "FROM ledger_account a JOIN ledger_accountbalance b ON b.account_id = a.id "
    "WHERE a.program_id = %s AND a.kind = 'payable' AND a.artist_id IS NOT NULL"
)


_PAYABLE_VERSIONS_SQL = f"SELECT a.artist_id, b.version {_PAYABLES}"


# Everything posted work contributes to the report, per artist, in ONE statement (so one
# snapshot on both databases): rows (tag, artist, x, y) where
#   tag 0: x = the version of the artist's payable balance row (y unused),
#   tag 1: x = accepted feedback hours in hundredths, y = accepted bug reports (value > 0),
#   tag 2: x = whole days from acceptance to the completing payment, y = work items settled
#          in that many days (the matching of `fifo.FIFO_CTE`),
#   tag 3: x = a day of acceptance (days since 1970-01-01), y = what is unpaid of the work
#          accepted that day (minor units; the same matching).
# {c}, {p}, {a} restrict to some artists (`AND x.artist_id IN (%s, ...)`) or are empty.
# DAYS: PostgreSQL's date - date is whole days; SQLite keeps ISO text.
_ARTIST_WORK_TEMPLATE = """
WITH FIFO
SELECT 0, a.artist_id, b.version, 0 PAYABLES{a}
UNION ALL
SELECT 1, c.artist_id, HOURS_X100, BUGS
  FROM ledger_contribution c
 WHERE c.program_id = %s AND c.status = 'accepted' AND c.value_minor <> 0{c}
 GROUP BY c.artist_id
UNION ALL
SELECT tag, artist_id, x, SUM(y) FROM (
    SELECT artist_id,
           CASE WHEN paid_on IS NULL THEN 3 ELSE 2 END AS tag,
           CASE WHEN paid_on IS NULL THEN EPOCH_DAY ELSE DAYS END AS x,
           CASE WHEN paid_on IS NULL THEN unpaid ELSE 1 END AS y
      FROM work
) items
 GROUP BY artist_id, tag, x
"""


_ARTIST_WORK_TEMPLATE = (
    _ARTIST_WORK_TEMPLATE.replace(
        "FIFO",
        FIFO_CTE.format(
            key="artist_id", work="c.program_id = %s{c}", payments="p.program_id = %s{p}"
        ),
    )
    .replace("PAYABLES", _PAYABLES)
    .replace("HOURS_X100", HOURS_X100)
    .replace("BUGS", BUGS)
)


ARTIST_WORK_SQL = {
    "postgresql": _ARTIST_WORK_TEMPLATE.replace(
        "DAYS", "GREATEST(paid_on - accepted_on, 0)"
    ).replace("EPOCH_DAY", "(accepted_on - DATE '1970-01-01')"),
    "sqlite": _ARTIST_WORK_TEMPLATE.replace(
        "DAYS", "MAX(CAST(julianday(paid_on) - julianday(accepted_on) AS INTEGER), 0)"
    ).replace("EPOCH_DAY", "CAST(julianday(accepted_on) - 2440587.5 AS INTEGER)"),
}


EPOCH = dt.date(1970, 1, 1)


_ARTISTS_PER_STATEMENT = 200  # each appears in 4 IN lists: 800 parameters a statement


@dataclass
class _ArtistWork:
    """One artist's posted work, exact at `version` of its payable's balance row."""

    version: int | None = None  # None: no payable account (only in hand-built test data)
    days: dict[int, int] = field(default_factory=dict)  # whole days → work items settled
    hours_x100: int = 0  # accepted feedback hours (value > 0), hundredths of an hour
    bugs: int = 0  # accepted bug reports (value > 0)
    has_work: bool = False  # any accepted work of value > 0
    unpaid: dict[dt.date, int] = field(default_factory=dict)  # day accepted → minor units


def read_artist_work(program: Program, artist_ids=None) -> dict[int, _ArtistWork]:
    """Posted work of `artist_ids` (all the program's artists if None), by artist id."""
    sql = ARTIST_WORK_SQL[connection.vendor]
    if artist_ids is None:
        statements = [(sql.format(c="", p="", a=""), [program.pk] * 4)]
    else:
        ids = sorted(artist_ids)
        statements = []
        for start in range(0, len(ids), _ARTISTS_PER_STATEMENT):
            chunk = ids[start : start + _ARTISTS_PER_STATEMENT]
            # Only placeholders are formatted into the SQL, never a value.
            in_list = f" IN ({', '.join(['%s'] * len(chunk))})"
            statements.append(
                (
                    sql.format(
                        c=f" AND c.artist_id{in_list}",
                        p=f" AND p.artist_id{in_list}",
                        a=f" AND a.artist_id{in_list}",
                    ),
                    [value for _ in range(4) for value in (program.pk, *chunk)],
                )
            )
    found: dict[int, _ArtistWork] = {}
    with connection.cursor() as cursor:
        for statement_sql, params in statements:
            cursor.execute(statement_sql, params)
            for tag, artist_id, x, y in cursor.fetchall():
                work = found.get(artist_id)
                if work is None:
                    work = found[artist_id] = _ArtistWork()
                if tag == 0:
                    work.version = int(x)
                elif tag == 1:
                    work.hours_x100, work.bugs, work.has_work = int(x), int(y), True
                elif tag == 2:
                    work.days[int(x)] = int(y)
                else:
                    work.unpaid[EPOCH + dt.timedelta(days=int(x))] = int(y)
    return found


class _Tally:
    """The program's posted-work figures as the sum of its artists': add or take one away."""

    def __init__(self):
        self.days: Counter[int] = Counter()  # whole days → work items settled
        self.unpaid: Counter[dt.date] = Counter()  # day accepted → unpaid minor units
        self.hours_x100 = 0  # hundredths of an hour
        self.bugs = 0
        self.artist_ids: set[int] = set()  # artists with accepted work of value > 0

    def add(self, artist_id: int, work: _ArtistWork, sign: int = 1) -> None:
        for counter, figures in ((self.days, work.days), (self.unpaid, work.unpaid)):
            for key, amount in figures.items():
                left = counter[key] + sign * amount
                if left:
                    counter[key] = left
                else:
                    del counter[key]
        self.hours_x100 += sign * work.hours_x100
        self.bugs += sign * work.bugs
        if work.has_work and sign > 0:
            self.artist_ids.add(artist_id)
        elif work.has_work:
            self.artist_ids.discard(artist_id)

    def counts(self) -> WorkCounts:
        return WorkCounts(
            artist_ids=frozenset(self.artist_ids),
            hours_x100=self.hours_x100,
            bugs=self.bugs,
            median_days=median_of_histogram(sorted(self.days.items())),
            unpaid=tuple(sorted(self.unpaid.items())),
        )


def from_scratch(program: Program) -> WorkCounts:
    tally = _Tally()
    for artist_id, work in read_artist_work(program).items():
        tally.add(artist_id, work)
    return tally.counts()


class _ProgramWork:
    """What this process knows of one program's posted work: per artist, and merged.

    Memory: bounded by members × distinct day values, a dict per member (Bench B: 3,000
    members, ~51 values each: 7.4 MB per program per process); `forget` drops it all.
    """

    def __init__(self):
        self.lock = threading.Lock()  # held while refreshing; readers only read `exact`
        self._reset()

    def _reset(self) -> None:
        self.anchor: tuple[int, str] | None = None  # (seq, hash) of an entry of its history
        self.artists: dict[int, _ArtistWork] = {}
        self.tally = _Tally()
        # (head, figures): the figures are those of the chain at that head (seq, hash).
        # Replaced whole, so a reader without the lock sees a matching pair.
        self.exact: tuple[tuple[int, str], WorkCounts] | None = None

    def refresh(self, program: Program, at: tuple[int, str]) -> WorkCounts:
        """Bring the figures up to date with the database; `at` is the head read before."""
        if self.exact is not None and self.exact[0] == at:
            return self.exact[1]  # another thread refreshed while this one waited
        if self.anchor is not None and not _in_chain(program, self.anchor):
            self._reset()  # not the history these figures came from (restore, test flush)
        versions = dict(_fetch(_PAYABLE_VERSIONS_SQL, [program.pk]))
        stale = [
            artist_id
            for artist_id, version in versions.items()
            if artist_id not in self.artists or self.artists[artist_id].version != version
        ]
        if not self.artists or 3 * len(stale) > len(versions):
            # First report, or most artists moved: one statement over everything is cheaper
            # than the IN lists, and leaves nothing of the old figures behind.
            fresh = read_artist_work(program)
            self.artists, self.tally = {}, _Tally()
        else:
            fresh = read_artist_work(program, stale) if stale else {}
            for artist_id in self.artists.keys() - versions.keys():
                self.tally.add(artist_id, self.artists.pop(artist_id), -1)  # not via services
        keep = True
        for artist_id, work in fresh.items():
            old = self.artists.pop(artist_id, None)
            if old is not None:
                self.tally.add(artist_id, old, -1)
            self.tally.add(artist_id, work)
            if work.version is None:
                keep = False  # work without a payable: no version to check it against later
            self.artists[artist_id] = work
        figures = self.tally.counts()
        if not keep:
            self._reset()
            return figures
        # Exact at `at` if no entry was committed while reading (the head did not move).
        after = _fetch(
            "SELECT seq, hash FROM ledger_ledgerhead WHERE program_id = %s", [program.pk]
        )
        after = tuple(after[0]) if after else at
        # The head read last: every figure kept was read at or before it, so while it is in
        # the chain, so is the history each figure came from.
        self.anchor = after
        self.exact = (at, figures) if after == at else None
        return figures


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _in_chain(program: Program, at: tuple[int, str]) -> bool:
    """Whether the program's chain still holds entry (seq, hash): the same history, grown."""
    seq, entry_hash = at
    return bool(
        _fetch(
            "SELECT 1 FROM ledger_entry WHERE program_id = %s AND seq = %s AND hash = %s",
            [program.pk, seq, entry_hash],
        )
    )


# (database alias, database name, program id) → _ProgramWork. Process-local: each worker
# keeps its own (gunicorn sync workers are single-threaded; the lock is for threads).
KEPT: dict[tuple[str, str, int], _ProgramWork] = {}


KEPT_LOCK = threading.Lock()


def forget() -> None:
    """Drop what this process knows of every program's posted work (tests start clean)."""
    with KEPT_LOCK:
        KEPT.clear()


def keep_report_figures() -> int:
    """Read and keep every program's posted-work figures in this process; the number of
    programs. gunicorn's master calls it before it forks the workers (gunicorn.conf.py), so
    each worker, and each one that replaces a recycled worker, starts with them and pays a
    miss (the artists moved since), not the first full read (about 1 s at 900k postings)."""
    programs = list(Program.objects.order_by("id"))
    for program in programs:
        posted_work(program, LedgerHead.objects.filter(program=program).first())
    return len(programs)


def posted_work(program: Program, head: LedgerHead | None) -> WorkCounts:
    """Counts and median days of accepted work of value > 0 and of paid payouts.

    Kept per artist, keyed by the version of the artist's payable balance row. Why that is
    exact: these figures read only an artist's accepted contributions of value > 0 (kind,
    hours, value, reviewed_at, accepted_on, id) and paid payouts (amount, paid_on, id), and
    those rows enter or leave the set only in a service transaction that also posts an entry
    to that artist's payable account (ledger/services: an acceptance of value > 0 credits
    it, also one made by an upheld dispute; an upheld valuation dispute changes the work's
    hours, severity and value only with the adjustment it credits (or, for work accepted at
    value 0, the acceptance it then posts); a reversal mirrors the acceptance and its
    adjustments; a payout debits it; a void mirrors the payout, also one made by an upheld
    dispute; rejecting or withdrawing touches only submitted work, and zero-value work posts
    nothing and is read live by the report). Their fields do not change afterwards (no other write
    path; the admin is read-only). `post_entry` adds 1 to `AccountBalance.version` of every
    account an entry posts to, in the same transaction. So in committed history an artist's
    figures are a function of (payable account, version); the statement that recomputes an
    artist returns the version it read with the figures (one snapshot), and only that pair
    is stored. A version alone names a state only within one history: the figures also
    remember an entry of their chain (`anchor`) and are dropped when it is gone.

    Nothing is stored inside a transaction: it may see its own uncommitted entries, whose
    versions a rollback would free for other content. There, the figures are reused only if
    the chain head (seq, hash, which names the whole history) is the one they were exact
    at, and otherwise computed from scratch. Out of a transaction, a report at an unmoved
    head reads nothing more (a hit); otherwise one query reads every payable's version and
    the artists whose version moved are recomputed (all of them if more than a third moved).
    """
    if head is None or not head.seq:
        return from_scratch(program)  # no entry yet: nothing to keep
    at = (head.seq, head.hash)
    state = KEPT.get(_key(program))
    exact = state.exact if state is not None else None
    if exact is not None and exact[0] == at:
        return exact[1]
    if connection.in_atomic_block:
        return from_scratch(program)
    state = _state(program)
    with state.lock:
        return state.refresh(program, at)


def _key(program: Program) -> tuple[str, str, int]:
    return (connection.alias, str(connection.settings_dict["NAME"]), program.pk)


def _state(program: Program) -> _ProgramWork:
    with KEPT_LOCK:
        return KEPT.setdefault(_key(program), _ProgramWork())


def kept_unpaid(
    program: Program, head: tuple[int, str] | None, artist_ids
) -> dict[int, dict[dt.date, int]] | None:
    """What is unpaid of each of `artist_ids`' accepted work in the program, by day of
    acceptance (minor units; artists with nothing unpaid left out), from the figures kept for
    the report (`posted_work`), brought up to date with the program's `head` (seq, hash) first:
    at an unmoved head that reads nothing, otherwise the artists whose payable moved. None
    where nothing can be kept (no entry yet, or inside a transaction): the caller reads those
    artists afresh (`fifo.unpaid_work`)."""
    if head is None or not head[0] or connection.in_atomic_block:
        return None
    state = _state(program)
    with state.lock:
        state.refresh(program, head)
        if state.anchor is None:  # could not keep (work without a payable): read afresh
            return None
        found = {}
        for artist_id in artist_ids:
            work = state.artists.get(artist_id)
            if work is not None and work.unpaid:
                found[artist_id] = dict(work.unpaid)
        return found
