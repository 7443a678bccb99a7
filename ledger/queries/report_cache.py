"""The report's posted-work figures, stored per artist in the database between reads and
recomputed only for the artists whose payable moved.

Where they live, and why there. Every app server reads the same two tables
(`ReportFigures`: a program's merged tally, the chain head it is exact at and a generation
counter; `ReportArtistFigures`: one row per artist, exact at a version of its payable balance
row), so a server that starts, or a worker gunicorn recycles, reads one row for its first
report instead of every contribution and payout of the program (about 1 s at 900k postings),
and start-up reads nothing. They are a derived, self-validating cache filled lazily by reads,
not rows maintained by the posting transaction: keeping them there would put the first-in
first-out matching of the artist (a read of all its work and payments) and a write of the
program's tally into every posting, the hot path the ledger is measured by, for figures only
the report and the balances' `overdue` read; here a posting costs nothing more, and a report
after it recomputes the artists that moved (`posted_work` has the argument why the versions
make that exact).

How a refresh stores. The figures are computed from one snapshot of the read connection
(`routing.read_connection()`; a REPEATABLE READ, READ ONLY transaction on PostgreSQL, so a
replica can serve it): the head, the stored rows and the payables' versions are read together,
so what is computed is exact at that head. They are then stored on the primary in one short
transaction whose UPDATE of the program's row is conditional on the generation the refresh
started from: a refresher that lost to a concurrent one writes nothing and returns its
figures, which are exact all the same. Artist rows are written only in a transaction that has
moved the generation, so the tally always equals the sum of the artist rows of its generation.
"""

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import OperationalError, connections, transaction

from ledger import routing
from ledger.models import Program

from .fifo import FIFO_CTE
from .rows import snapshot

logger = logging.getLogger(__name__)


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
    connection = routing.read_connection()
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


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def _days_since_epoch(figures: dict[dt.date, int]) -> list[list[int]]:
    return sorted([(day - EPOCH).days, amount] for day, amount in figures.items())


def _dates(pairs) -> dict[dt.date, int]:
    return {EPOCH + dt.timedelta(days=day): amount for day, amount in pairs}


def _encode_work(work: _ArtistWork) -> tuple[str, str]:
    """(figures, unpaid) of an artist's row: JSON, integers only."""
    figures = {
        "days": sorted(work.days.items()),
        "hours_x100": work.hours_x100,
        "bugs": work.bugs,
        "has_work": work.has_work,
    }
    return _dumps(figures), _dumps(_days_since_epoch(work.unpaid))


def _decode_work(version: int, figures: str, unpaid: str) -> _ArtistWork:
    decoded = json.loads(figures)
    return _ArtistWork(
        version=version,
        days={int(days): count for days, count in decoded["days"]},
        hours_x100=decoded["hours_x100"],
        bugs=decoded["bugs"],
        has_work=decoded["has_work"],
        unpaid=_dates(json.loads(unpaid)),
    )


def _encode_tally(tally: _Tally) -> str:
    return _dumps(
        {
            "days": sorted(tally.days.items()),
            "unpaid": _days_since_epoch(tally.unpaid),
            "hours_x100": tally.hours_x100,
            "bugs": tally.bugs,
            "artists": sorted(tally.artist_ids),
        }
    )


def _decode_tally(text: str) -> _Tally:
    decoded = json.loads(text)
    tally = _Tally()
    tally.days.update({int(days): count for days, count in decoded["days"]})
    tally.unpaid.update(_dates(decoded["unpaid"]))
    tally.hours_x100, tally.bugs = decoded["hours_x100"], decoded["bugs"]
    tally.artist_ids = set(decoded["artists"])
    return tally


@dataclass(frozen=True)
class Stored:
    """A program's row of the store (`ReportFigures`)."""

    generation: int  # grows by one at every store
    at: tuple[int, str] | None  # the head (seq, hash) the tally is exact at; None: nothing
    tally: str  # JSON (`_encode_tally`), "" when nothing is stored


_STORED_SQL = "SELECT generation, seq, hash, tally FROM ledger_reportfigures WHERE program_id = %s"


def _fetch(cursor, sql: str, params: list) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _read_stored(cursor, program_id: int) -> Stored | None:
    rows = _fetch(cursor, _STORED_SQL, [program_id])
    if not rows:
        return None
    generation, seq, head_hash, tally = rows[0]
    return Stored(generation, None if seq is None else (seq, head_hash), tally)


def _chunks(ids, size: int = 500):
    ids = sorted(ids)
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield chunk, f"IN ({', '.join(['%s'] * len(chunk))})"  # placeholders only


def _read_artists(cursor, program_id: int, artist_ids) -> dict[int, _ArtistWork]:
    """The stored figures of those of `artist_ids` that have a row."""
    found = {}
    for chunk, in_list in _chunks(artist_ids):
        cursor.execute(
            "SELECT artist_id, version, figures, unpaid FROM ledger_reportartistfigures "  # noqa: S608  # nosec B608
            f"WHERE program_id = %s AND artist_id {in_list}",
            [program_id, *chunk],
        )
        for artist_id, version, figures, unpaid in cursor.fetchall():
            found[artist_id] = _decode_work(version, figures, unpaid)
    return found


def _in_chain(cursor, program_id: int, at: tuple[int, str]) -> bool:
    """Whether the program's chain still holds entry (seq, hash): the same history, grown."""
    seq, entry_hash = at
    return bool(
        _fetch(
            cursor,
            "SELECT 1 FROM ledger_entry WHERE program_id = %s AND seq = %s AND hash = %s",
            [program_id, seq, entry_hash],
        )
    )


def _in_transaction() -> bool:
    """Whether the caller is inside a transaction (on the primary or the read connection)."""
    return connections[routing.PRIMARY].in_atomic_block or routing.read_connection().in_atomic_block


def stored(program: Program) -> tuple[Stored, dict[int, _ArtistWork]] | None:
    """The program's stored figures as they are (its row and every artist's), read from the
    primary, or None: for checks and tests, never for a report (which validates first)."""
    with connections[routing.PRIMARY].cursor() as cursor:
        row = _read_stored(cursor, program.pk)
        if row is None:
            return None
        ids = [a for (a,) in _fetch(cursor, _ARTIST_IDS_SQL, [program.pk])]
        return row, _read_artists(cursor, program.pk, ids)


_ARTIST_IDS_SQL = "SELECT artist_id FROM ledger_reportartistfigures WHERE program_id = %s"


_ARTIST_VERSIONS_SQL = (
    "SELECT artist_id, version FROM ledger_reportartistfigures WHERE program_id = %s"
)


def forget(program: Program | None = None) -> None:
    """Empty the store (of one program, or of all): the next report recomputes the figures.
    For data changed by hand rather than through the services. The program rows stay, their
    generation moved on, so a refresh that started before can never store over the empty
    state (a generation is never used twice)."""
    where, params = ("WHERE program_id = %s", [program.pk]) if program else ("", [])
    primary = connections[routing.PRIMARY]
    with transaction.atomic(using=primary.alias), primary.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_reportfigures SET generation = generation + 1, seq = NULL, "  # noqa: S608  # nosec B608
            f"hash = '', tally = '' {where}",
            params,
        )
        cursor.execute(f"DELETE FROM ledger_reportartistfigures {where}", params)  # noqa: S608  # nosec B608


def posted_work(program: Program, head) -> WorkCounts:
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
    is stored. A version alone names a state only within one history: the stored figures
    also name the head they were exact at, an entry of their chain, and are recomputed from
    nothing when it is gone (a restore, a re-created database). Work without a payable
    (hand-built data only) has no version to check later: a program with such work stores
    nothing, and its reports compute from scratch.

    Nothing is stored from inside a transaction: it may see its own uncommitted entries, whose
    versions a rollback would free for other content. There, the stored figures are reused
    only if the chain head (seq, hash, which names the whole history) is the one they are
    exact at, and otherwise computed from scratch. Out of a transaction, a report at the head
    the store is exact at reads one row (a hit); otherwise one snapshot reads every payable's
    version and the stored versions, the artists whose version moved are recomputed (all of
    them if more than a third moved), and the result is stored (`_refresh`).
    """
    if head is None or not head.seq:
        return from_scratch(program)  # no entry yet: nothing to keep
    with routing.read_connection().cursor() as cursor:
        row = _read_stored(cursor, program.pk)
    if row is not None and row.at == (head.seq, head.hash):
        return _decode_tally(row.tally).counts()
    if _in_transaction():
        return from_scratch(program)
    return _refresh(program)


# The chain head and the program's stored row, in one statement.
_HEAD_AND_STORED_SQL = (
    "SELECT h.seq, h.hash, f.generation, f.seq, f.hash, f.tally FROM ledger_ledgerhead h "
    "LEFT JOIN ledger_reportfigures f ON f.program_id = h.program_id WHERE h.program_id = %s"
)


def _refresh(program: Program) -> WorkCounts:
    """Bring the program's stored figures up to date with its ledger; its figures.

    Read in one snapshot of the read connection, stored on the primary (`_store`), unless a
    concurrent refresh stored first (its figures stand; these are returned all the same).
    """
    reader = routing.read_connection()
    with snapshot(reader), reader.cursor() as cursor:
        head = _fetch(cursor, _HEAD_AND_STORED_SQL, [program.pk])
        if not head or not head[0][0]:
            return from_scratch(program)  # no entry (any more): nothing to keep
        seq, head_hash, generation, stored_seq, stored_hash, stored_tally = head[0]
        at = (seq, head_hash)
        row = None
        if generation is not None:
            stored_at = None if stored_seq is None else (stored_seq, stored_hash)
            row = Stored(generation, stored_at, stored_tally)
        if row is not None and row.at == at:
            return _decode_tally(row.tally).counts()  # a concurrent refresh stored it
        versions = dict(_fetch(cursor, _PAYABLE_VERSIONS_SQL, [program.pk]))
        kept: dict[int, int] = {}
        if row is not None and row.at is not None and _in_chain(cursor, program.pk, row.at):
            kept = dict(_fetch(cursor, _ARTIST_VERSIONS_SQL, [program.pk]))
        stale = [a for a, version in versions.items() if kept.get(a) != version]
        gone = kept.keys() - versions.keys()  # payables removed, not via services
        whole = not kept or 3 * len(stale) > len(versions)
        if whole:
            # First report, another history, or most artists moved: one statement over
            # everything is cheaper than the IN lists, and leaves nothing old behind.
            tally, fresh = _Tally(), read_artist_work(program)
        else:
            tally = _decode_tally(row.tally)
            for artist_id, work in _read_artists(cursor, program.pk, [*stale, *gone]).items():
                tally.add(artist_id, work, -1)
            fresh = read_artist_work(program, stale) if stale else {}
        for artist_id, work in fresh.items():
            tally.add(artist_id, work)
    figures = tally.counts()
    try:
        if all(work.version is not None for work in fresh.values()):
            _store(program, row, at, tally, fresh, whole=whole, gone=gone)
        elif row is not None and row.at is not None:
            # Work without a payable: no version to check it against later. Store nothing,
            # and empty what was stored, so no later refresh builds on it.
            _store(program, row, None, None, {}, whole=True, gone=set())
    except OperationalError as error:
        # The figures are exact whether or not they could be stored (a lock wait that timed
        # out, the primary unreachable from a replica-served read): the report answers, and
        # a later one stores.
        logger.warning("report figures of program %s not stored: %s", program.pk, error)
    return figures


def _store(program, row, at, tally, fresh, *, whole: bool, gone) -> bool:
    """Write the refreshed figures over generation `row.generation` (no row: 0), in one
    short transaction on the primary; False, writing nothing, if another refresh moved the
    generation first. `at` None: store nothing (empty the program's figures)."""
    primary = connections[routing.PRIMARY]
    values = [None, "", ""] if at is None else [at[0], at[1], _encode_tally(tally)]
    with (
        routing.not_the_requests_writes(),  # a cache filled by a read, not the reader's write
        transaction.atomic(using=primary.alias),
        primary.cursor() as cursor,
    ):
        if row is None:
            cursor.execute(
                "INSERT INTO ledger_reportfigures (program_id, generation, seq, hash, tally) "
                "VALUES (%s, 1, %s, %s, %s) ON CONFLICT (program_id) DO NOTHING",
                [program.pk, *values],
            )
        else:
            cursor.execute(
                "UPDATE ledger_reportfigures SET generation = generation + 1, seq = %s, "
                "hash = %s, tally = %s WHERE program_id = %s AND generation = %s",
                [*values, program.pk, row.generation],
            )
        if cursor.rowcount != 1:
            return False  # lost to a concurrent refresh: its figures stand
        if whole:
            cursor.execute(
                "DELETE FROM ledger_reportartistfigures WHERE program_id = %s", [program.pk]
            )
        else:
            for chunk, in_list in _chunks(fresh.keys() | gone):
                cursor.execute(
                    "DELETE FROM ledger_reportartistfigures "  # noqa: S608  # nosec B608
                    f"WHERE program_id = %s AND artist_id {in_list}",
                    [program.pk, *chunk],
                )
        for chunk, _ in _chunks(fresh.keys()):
            rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))  # placeholders only
            params = []
            for artist_id in chunk:
                params.extend((program.pk, artist_id, fresh[artist_id].version))
                params.extend(_encode_work(fresh[artist_id]))
            cursor.execute(
                "INSERT INTO ledger_reportartistfigures "  # noqa: S608  # nosec B608
                f"(program_id, artist_id, version, figures, unpaid) VALUES {rows}",
                params,
            )
    return True


# Per program listed: its head, and whether the store is exact at it (tag 0); then, of the
# programs whose store is exact at their head, the listed artists' unpaid work (tag 1). One
# statement, so one snapshot: the artists' rows are those of the generation exact at the head.
_UNPAID_SQL = """
SELECT 0, h.program_id, h.seq,
       CASE WHEN f.seq = h.seq AND f.hash = h.hash THEN 'exact' ELSE '' END
  FROM ledger_ledgerhead h LEFT JOIN ledger_reportfigures f ON f.program_id = h.program_id
 WHERE h.program_id {programs}
UNION ALL
SELECT 1, a.program_id, a.artist_id, a.unpaid
  FROM ledger_reportartistfigures a
  JOIN ledger_reportfigures f ON f.program_id = a.program_id
  JOIN ledger_ledgerhead h ON h.program_id = f.program_id AND h.seq = f.seq AND h.hash = f.hash
 WHERE {artists}
"""


def _stored_unpaid(wanted: dict[int, list[int]]):
    """(unpaid, moved): `kept_unpaid`'s answer for the programs whose store is exact at their
    head, and the programs with entries whose store is not."""
    program_ids = sorted(wanted)
    params: list = list(program_ids)
    artists = []
    for program_id in program_ids:
        ids = sorted(set(wanted[program_id]))
        if len(ids) > _ARTISTS_PER_STATEMENT:  # most of a program: all its rows, no list
            artists.append("a.program_id = %s")
            params.append(program_id)
        else:
            artists.append(
                f"(a.program_id = %s AND a.artist_id IN ({', '.join(['%s'] * len(ids))}))"
            )
            params.extend((program_id, *ids))
    programs = f"IN ({', '.join(['%s'] * len(program_ids))})"  # placeholders only
    sql = _UNPAID_SQL.format(programs=programs, artists=" OR ".join(artists))
    with routing.read_connection().cursor() as cursor:
        rows = _fetch(cursor, sql, params)
    found: dict[int, dict[int, dict[dt.date, int]]] = {}
    moved = []
    for tag, program_id, x, text in rows:
        if tag == 0 and text:
            found.setdefault(program_id, {})
        elif tag == 0 and x:
            moved.append(program_id)
    listed = {program_id: set(ids) for program_id, ids in wanted.items()}
    for tag, program_id, artist_id, text in rows:
        if tag == 1 and program_id in found and artist_id in listed[program_id] and text != "[]":
            found[program_id][artist_id] = _dates(json.loads(text))
    return found, moved


def kept_unpaid(wanted: dict[int, list[int]]) -> dict[int, dict[int, dict[dt.date, int]]]:
    """What is unpaid of each listed artist's accepted work, by program id (`wanted`: program
    id → artist ids), then artist id (artists with nothing unpaid left out), by day of
    acceptance (minor units), from the figures stored for the report (`posted_work`).

    One statement reads the programs' heads and, where the store is exact at the head, the
    artists' rows; a program whose head moved is refreshed first (its payables that moved
    recomputed) and read again. Programs missing from the answer (no entry yet, work without a
    payable, inside a transaction): the caller reads those artists afresh
    (`fifo.unpaid_work`)."""
    if not wanted or _in_transaction():
        return {}
    found, moved = _stored_unpaid(wanted)
    for program_id in moved:
        _refresh(Program(pk=program_id))
    if moved:
        found.update(_stored_unpaid({p: wanted[p] for p in moved})[0])
    return found
