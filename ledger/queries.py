"""Reads: balances, statements and program reports. All amounts are integer minor units.

Sign conventions follow the API: an artist's balance is what the program owes it (positive =
owed); statement lines are positive for valued work and negative for payments.
"""

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import connection
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ledger.models import (
    Account,
    AccountKind,
    Contribution,
    ContributionStatus,
    Entry,
    LedgerHead,
    Membership,
    Posting,
    Program,
)
from ledger.services.payouts import check_payout, check_within_owed


def with_pending(memberships):
    """Annotate memberships with `pending_minor`: submitted work valued as submitted."""
    pending = (
        Contribution.objects.filter(
            program_id=OuterRef("program_id"),
            artist_id=OuterRef("artist_id"),
            status=ContributionStatus.SUBMITTED,
        )
        .order_by()
        .values("program_id")
        .annotate(total=Sum("estimate_minor"))
        .values("total")
    )
    return memberships.annotate(
        pending_minor=Coalesce(Subquery(pending, output_field=IntegerField()), Value(0))
    )


def balances(memberships=None):
    """One row per membership, zero rows included: the API's /balances/ and the artist home."""
    memberships = Membership.objects.all() if memberships is None else memberships
    return with_pending(memberships.select_related("program", "artist"))


class SqlRows:
    """A list read as plain SQL, paged by slicing (`rows[offset:stop]`), rows as dicts.

    For the hottest API lists: building and compiling the equivalent annotated ORM query
    took more time than the rest of the request (docs/PERFORMANCE.md). `conditions` are
    (SQL with %s placeholders, parameter) pairs joined by AND; only constant SQL is formatted
    into the statement, never a value. `fields` names the model field behind each column
    that needs the database's value converted as the ORM would (SQLite keeps timestamps
    naive and decimals as floats; PostgreSQL needs nothing).
    """

    def __init__(
        self,
        select: str,
        conditions: list[tuple[str, object]],
        order_by: str,
        fields: dict | None = None,
    ):
        self.select, self.order_by, self.fields = select, order_by, fields or {}
        self.where = " AND ".join(sql for sql, _ in conditions) or "1 = 1"
        self.params = [param for _, param in conditions]

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        sql = f"{self.select} WHERE {self.where} ORDER BY {self.order_by} LIMIT %s OFFSET %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, window.stop - offset, offset])
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for name, model_field in self.fields.items():
            column = model_field.get_col(model_field.model._meta.db_table)
            converters = connection.ops.get_db_converters(column)
            converters += model_field.get_db_converters(connection)
            if converters:
                for row in rows:
                    for convert in converters:
                        row[name] = convert(row[name], column, connection)
        return rows


# Integers and a currency code only, so the rows need no conversion on either database.
_BALANCE_ROWS_SELECT = (
    "SELECT m.artist_id AS artist, m.program_id AS program, p.currency, m.valued_minor, "
    "m.grants_minor, m.settlements_minor, COALESCE((SELECT SUM(c.estimate_minor) "
    "FROM ledger_contribution c WHERE c.program_id = m.program_id "
    "AND c.artist_id = m.artist_id AND c.status = 'submitted'), 0) AS pending_minor "
    "FROM ledger_membership m JOIN ledger_program p ON p.id = m.program_id"
)


def balance_rows(user, *, artist_id: int | None = None, program_id: int | None = None):
    """The API's /balances/ rows (what `balances()` gives the pages, as dicts), membership
    order: minor units valued, grants, settlements and pending, per membership `user` sees."""
    conditions = []
    if not user.is_admin:
        conditions.append(("m.artist_id = %s", user.pk))
    if artist_id is not None:
        conditions.append(("m.artist_id = %s", artist_id))
    if program_id is not None:
        conditions.append(("m.program_id = %s", program_id))
    return SqlRows(_BALANCE_ROWS_SELECT, conditions, "m.id")


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
    newest submission first, of the work `user` sees (`Contribution.objects.visible_to`): an
    admin all, an artist its own."""
    conditions = [] if user.is_admin else [("c.artist_id = %s", user.pk)]
    for column, value in (
        ("c.id", id),
        ("c.program_id", program),
        ("c.artist_id", artist),
        ("c.status", status),
        ("c.kind", kind),
    ):
        if value is not None:
            conditions.append((f"{column} = %s", value))
    field = Contribution._meta.get_field
    return SqlRows(
        _CONTRIBUTION_ROWS_SELECT,
        conditions,
        "c.submitted_at DESC, c.id DESC",
        {name: field(name) for name in ("occurred_on", "hours", "submitted_at", "reviewed_at")},
    )


def payable_balance_minor(program: Program, artist) -> int:
    """What `program` owes `artist`, read from the payable's balance row: O(1).

    The hottest read of the app, so plain SQL: compiling the equivalent ORM query costs
    about ten times what the database spends answering it (see docs/PERFORMANCE.md).
    """
    with connection.cursor() as cursor:
        cursor.execute(_PAYABLE_BALANCE_SQL, [program.pk, artist.pk, AccountKind.PAYABLE.value])
        row = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist("This artist has no payable account in this program.")
    return -row[0]


_PAYABLE_BALANCE_SQL = (
    "SELECT b.balance_minor FROM ledger_accountbalance b "
    "JOIN ledger_account a ON a.id = b.account_id "
    "WHERE a.program_id = %s AND a.artist_id = %s AND a.kind = %s"
)


@dataclass(frozen=True)
class PayoutPreview:
    """What a payout would do to an artist's balance (minor units; negative = paid ahead)."""

    owed_before_minor: int
    owed_after_minor: int


def payout_preview(
    *, actor, artist, program: Program, amount_minor: int, kind: str, paid_on: dt.date
) -> PayoutPreview:
    """Check a payout by the rules `record_payout` applies, and what it would leave owed:
    reads only, so a page can validate before anything is written. Raises the same domain
    errors. The settlement check reads the balance without a lock; `record_payout` checks it
    again under the lock, so a preview can pass and the payout still be refused.
    """
    try:
        owed = payable_balance_minor(program, artist)
    except Account.DoesNotExist:
        owed = None
    check_payout(
        actor=actor,
        kind=kind,
        amount_minor=amount_minor,
        paid_on=paid_on,
        member=owed is not None,
    )
    check_within_owed(program=program, kind=kind, amount_minor=amount_minor, owed_minor=owed)
    return PayoutPreview(owed_before_minor=owed, owed_after_minor=owed - amount_minor)


@dataclass
class StatementLine:
    date: dt.date
    kind: str
    description: str
    amount_minor: int  # positive: valued work; negative: payments
    balance_minor: int  # running balance after this line
    entry_id: int
    entry_hash: str


@dataclass
class Statement:
    artist: object
    program: Program
    date_from: dt.date | None
    date_to: dt.date | None
    opening_minor: int
    closing_minor: int
    head_hash: str | None
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.program.currency


def statement(
    *, artist, program: Program, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> Statement:
    """The artist's payable account in `program` between two dates (inclusive), by entry date.

    `head_hash` is the hash of the latest entry (in chain order) that the statement includes,
    opening balance included, so it can later be checked against the chain.
    """
    postings = Posting.objects.filter(
        account__program=program, account__artist=artist, account__kind=AccountKind.PAYABLE
    )
    if date_to is not None:
        postings = postings.filter(entry__effective_date__lte=date_to)
    opening = 0
    if date_from is not None:
        opening = -(
            postings.filter(entry__effective_date__lt=date_from).aggregate(
                total=Coalesce(Sum("amount_minor"), 0)
            )["total"]
        )
        in_period = postings.filter(entry__effective_date__gte=date_from)
    else:
        in_period = postings
    rows = in_period.order_by("entry__effective_date", "entry__seq", "id").values_list(
        "entry__effective_date",
        "entry__kind",
        "entry__memo",
        "amount_minor",
        "entry_id",
        "entry__hash",
    )
    lines, running = [], opening
    for day, kind, memo, amount, entry_id, entry_hash in rows:
        running -= amount
        lines.append(StatementLine(day, kind, memo, -amount, running, entry_id, entry_hash))
    last = postings.order_by("-entry__seq").values_list("entry__hash", flat=True).first()
    return Statement(
        artist=artist,
        program=program,
        date_from=date_from,
        date_to=date_to,
        opening_minor=opening,
        closing_minor=running,
        head_hash=last,
        lines=lines,
    )


@dataclass
class Report:
    program: Program
    contributors: int
    feedback_hours: Decimal
    bug_reports_accepted: int
    valued_minor: int
    grants_minor: int
    settlements_minor: int
    outstanding_minor: int
    paid_ahead_minor: int
    paid_ratio: Decimal | None
    median_days_to_payment: Decimal | None
    head_hash: str | None

    @property
    def paid_minor(self) -> int:
        return self.grants_minor + self.settlements_minor

    @property
    def currency(self) -> str:
        return self.program.currency


def median_days_to_payment(program: Program) -> Decimal | None:
    """Days from acceptance to the payment that completed it, median over settled work.

    Per artist, payments (grants and settlements not voided, in `paid_on`, id order) settle
    accepted, unreversed, nonzero work oldest review first (`reviewed_at`, id). Paid in advance
    counts as 0 days.

    First-in first-out in running sums, done by the database in one pass (issue 7: loading
    every row into Python took a second at 900k postings): work item i, with W(i) the running
    sum of its artist's accepted values up to and including it, is completed by the first
    payment whose running sum P(j) reaches W(i). Values and amounts are > 0 (check
    constraints), so both running sums strictly increase and `paid_on` never decreases along
    the payments. Merged per artist and read from the largest running sum down (a payment
    before work on equal sums: P(j) = W(i) completes i), the earliest `paid_on` seen so far is
    the completing payment's date; work with none seen is not fully paid yet. Only histograms
    of days come back (per artist, `_ARTIST_WORK_SQL`), and the median is taken from their sum
    exactly as `statistics.median` would from the list of days.

    Computed from scratch; `program_report` keeps the same figures up to date per artist.
    """
    return _posted_work_from_scratch(program).median_days


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


def program_report(program: Program) -> Report:
    """The transparency figures of one program (no artist identities).

    Cheap at any size (issue 7): what needs every accepted contribution and payout of the
    program (the median days to payment and the counts of posted work) is kept per artist
    and recomputed only for the artists whose payable moved since the last report
    (`_posted_work`); the rest is read live: zero-value work (which posts no entry), the
    memberships' maintained totals, the head.
    """
    head = LedgerHead.objects.filter(program=program).first()
    posted = _posted_work(program, head)
    # Accepted work of value 0 (or NULL): changes without an entry, so it is never kept.
    unposted = _work_counts(_UNPOSTED_WORK_SQL, program)
    members = Membership.objects.filter(program=program).annotate(
        owed=F("valued_minor") - F("grants_minor") - F("settlements_minor")  # minor units
    )
    totals = members.aggregate(
        valued=Coalesce(Sum("valued_minor"), 0),
        grants=Coalesce(Sum("grants_minor"), 0),
        settlements=Coalesce(Sum("settlements_minor"), 0),
        outstanding=Coalesce(Sum("owed", filter=Q(owed__gt=0)), 0),
        paid_ahead=Coalesce(Sum(-F("owed"), filter=Q(owed__lt=0)), 0),
    )
    paid = totals["grants"] + totals["settlements"]
    ratio = None
    if totals["valued"]:
        ratio = (Decimal(paid) / Decimal(totals["valued"])).quantize(
            Decimal("0.0001"), ROUND_HALF_EVEN
        )
    return Report(
        program=program,
        contributors=len(posted.artist_ids | unposted.artist_ids),
        feedback_hours=(
            Decimal(posted.hours_x100 + unposted.hours_x100).scaleb(-2).quantize(Decimal("0.01"))
        ),
        bug_reports_accepted=posted.bugs + unposted.bugs,
        valued_minor=totals["valued"],
        grants_minor=totals["grants"],
        settlements_minor=totals["settlements"],
        outstanding_minor=totals["outstanding"],
        paid_ahead_minor=totals["paid_ahead"],
        paid_ratio=ratio,
        median_days_to_payment=posted.median_days,
        head_hash=head.hash if head and head.seq else None,
    )


@dataclass(frozen=True)
class WorkCounts:
    artist_ids: frozenset[int]  # artists with accepted work
    hours_x100: int  # accepted feedback hours, in hundredths of an hour
    bugs: int  # accepted bug reports
    median_days: Decimal | None = None


# Accepted feedback hours as integer hundredths (exact on SQLite too, where a DECIMAL column
# holds floats) and accepted bug reports: summed over the contributions `c`.
_HOURS_X100 = (
    "SUM(CASE WHEN c.kind = 'feedback' THEN CAST(ROUND(c.hours * 100) AS BIGINT) ELSE 0 END)"
)
_BUGS = "SUM(CASE WHEN c.kind = 'bug_report' THEN 1 ELSE 0 END)"

# Accepted work of value 0 (no acceptance entry; NULL is not valid but counted as the report
# always did), per artist.
_UNPOSTED_WORK_TEMPLATE = """
SELECT c.artist_id, HOURS_X100, BUGS
  FROM ledger_contribution c
 WHERE c.program_id = %s AND c.status = 'accepted'
   AND (c.value_minor = 0 OR c.value_minor IS NULL)
 GROUP BY c.artist_id
"""
_UNPOSTED_WORK_SQL = _UNPOSTED_WORK_TEMPLATE.replace("HOURS_X100", _HOURS_X100).replace(
    "BUGS", _BUGS
)


def _work_counts(sql: str, program: Program) -> WorkCounts:
    with connection.cursor() as cursor:
        cursor.execute(sql, [program.pk])
        rows = cursor.fetchall()
    return WorkCounts(
        artist_ids=frozenset(artist_id for artist_id, _, _ in rows),
        hours_x100=sum(int(hours) for _, hours, _ in rows),
        bugs=sum(int(bugs) for _, _, bugs in rows),
    )


# --- posted work, per artist ------------------------------------------------------------------

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
#          in that many days (the FIFO of `median_days_to_payment`).
# {c}, {p}, {a} restrict to some artists (`AND x.artist_id IN (%s, ...)`) or are empty.
# Status literals are ContributionStatus.ACCEPTED and PayoutStatus.PAID, written out so
# PostgreSQL matches the partial indexes contribution_accepted_fifo and payout_paid_fifo;
# sums are minor units. DAYS: PostgreSQL's date - date is whole days; SQLite keeps ISO text.
_ARTIST_WORK_TEMPLATE = """
WITH stream AS (
    SELECT c.artist_id, 0 AS is_payment, c.accepted_on AS day,
           SUM(c.value_minor) OVER (
               PARTITION BY c.artist_id ORDER BY c.reviewed_at, c.id ROWS UNBOUNDED PRECEDING
           ) AS upto
      FROM ledger_contribution c
     WHERE c.program_id = %s AND c.status = 'accepted' AND c.value_minor <> 0{c}
    UNION ALL
    SELECT p.artist_id, 1, p.paid_on,
           SUM(p.amount_minor) OVER (
               PARTITION BY p.artist_id ORDER BY p.paid_on, p.id ROWS UNBOUNDED PRECEDING
           )
      FROM ledger_payout p
     WHERE p.program_id = %s AND p.status = 'paid'{p}
), settled AS (
    SELECT artist_id, is_payment, day AS accepted_on,
           MIN(CASE WHEN is_payment = 1 THEN day END) OVER (
               PARTITION BY artist_id ORDER BY upto DESC, is_payment DESC
               ROWS UNBOUNDED PRECEDING
           ) AS paid_on
      FROM stream
)
SELECT 0, a.artist_id, b.version, 0 PAYABLES{a}
UNION ALL
SELECT 1, c.artist_id, HOURS_X100, BUGS
  FROM ledger_contribution c
 WHERE c.program_id = %s AND c.status = 'accepted' AND c.value_minor <> 0{c}
 GROUP BY c.artist_id
UNION ALL
SELECT 2, artist_id, DAYS, COUNT(*) FROM settled
 WHERE is_payment = 0 AND paid_on IS NOT NULL
 GROUP BY artist_id, DAYS
"""
_ARTIST_WORK_TEMPLATE = (
    _ARTIST_WORK_TEMPLATE.replace("PAYABLES", _PAYABLES)
    .replace("HOURS_X100", _HOURS_X100)
    .replace("BUGS", _BUGS)
)
_ARTIST_WORK_SQL = {
    "postgresql": _ARTIST_WORK_TEMPLATE.replace("DAYS", "GREATEST(paid_on - accepted_on, 0)"),
    "sqlite": _ARTIST_WORK_TEMPLATE.replace(
        "DAYS", "MAX(CAST(julianday(paid_on) - julianday(accepted_on) AS INTEGER), 0)"
    ),
}
_ARTISTS_PER_STATEMENT = 200  # each appears in 4 IN lists: 800 parameters a statement


@dataclass
class _ArtistWork:
    """One artist's posted work, exact at `version` of its payable's balance row."""

    version: int | None = None  # None: no payable account (only in hand-built test data)
    days: dict[int, int] = field(default_factory=dict)  # whole days → work items settled
    hours_x100: int = 0  # accepted feedback hours (value > 0), hundredths of an hour
    bugs: int = 0  # accepted bug reports (value > 0)
    has_work: bool = False  # any accepted work of value > 0


def _read_artist_work(program: Program, artist_ids=None) -> dict[int, _ArtistWork]:
    """Posted work of `artist_ids` (all the program's artists if None), by artist id."""
    sql = _ARTIST_WORK_SQL[connection.vendor]
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
                else:
                    work.days[int(x)] = int(y)
    return found


class _Tally:
    """The program's posted-work figures as the sum of its artists': add or take one away."""

    def __init__(self):
        self.days: Counter[int] = Counter()  # whole days → work items settled
        self.hours_x100 = 0  # hundredths of an hour
        self.bugs = 0
        self.artist_ids: set[int] = set()  # artists with accepted work of value > 0

    def add(self, artist_id: int, work: _ArtistWork, sign: int = 1) -> None:
        for days, items in work.days.items():
            left = self.days[days] + sign * items
            if left:
                self.days[days] = left
            else:
                del self.days[days]
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
        )


def _posted_work_from_scratch(program: Program) -> WorkCounts:
    tally = _Tally()
    for artist_id, work in _read_artist_work(program).items():
        tally.add(artist_id, work)
    return tally.counts()


class _ProgramWork:
    """What this process knows of one program's posted work: per artist, and merged.

    Memory: bounded by members × distinct day values, a dict per member (Bench B: 3,000
    members, ~51 values each: 7.4 MB per program per process); `_forget` drops it all.
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
            fresh = _read_artist_work(program)
            self.artists, self.tally = {}, _Tally()
        else:
            fresh = _read_artist_work(program, stale) if stale else {}
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
_PROGRAM_WORK: dict[tuple[str, str, int], _ProgramWork] = {}
_PROGRAM_WORK_LOCK = threading.Lock()


def _forget() -> None:
    """Drop what this process knows of every program's posted work (tests start clean)."""
    with _PROGRAM_WORK_LOCK:
        _PROGRAM_WORK.clear()


def keep_report_figures() -> int:
    """Read and keep every program's posted-work figures in this process; the number of
    programs. gunicorn's master calls it before it forks the workers (gunicorn.conf.py), so
    each worker, and each one that replaces a recycled worker, starts with them and pays a
    miss (the artists moved since), not the first full read (about 1 s at 900k postings)."""
    programs = list(Program.objects.order_by("id"))
    for program in programs:
        _posted_work(program, LedgerHead.objects.filter(program=program).first())
    return len(programs)


def _posted_work(program: Program, head: LedgerHead | None) -> WorkCounts:
    """Counts and median days of accepted work of value > 0 and of paid payouts.

    Kept per artist, keyed by the version of the artist's payable balance row. Why that is
    exact: these figures read only an artist's accepted contributions of value > 0 (kind,
    hours, value, reviewed_at, accepted_on, id) and paid payouts (amount, paid_on, id), and
    those rows enter or leave the set only in a service transaction that also posts an entry
    to that artist's payable account (ledger/services: an acceptance of value > 0 credits
    it; a reversal mirrors that acceptance; a payout debits it; a void mirrors the payout;
    rejecting or withdrawing touches only submitted work, and zero-value work posts nothing
    and is read live by the report). Their fields do not change afterwards (no other write
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
        return _posted_work_from_scratch(program)  # no entry yet: nothing to keep
    at = (head.seq, head.hash)
    key = (connection.alias, str(connection.settings_dict["NAME"]), program.pk)
    state = _PROGRAM_WORK.get(key)
    exact = state.exact if state is not None else None
    if exact is not None and exact[0] == at:
        return exact[1]
    if connection.in_atomic_block:
        return _posted_work_from_scratch(program)
    with _PROGRAM_WORK_LOCK:
        state = _PROGRAM_WORK.setdefault(key, _ProgramWork())
    with state.lock:
        return state.refresh(program, at)


def monthly_series(program: Program, artist=None) -> list[tuple[str, int, int]]:
    """Cumulative (month "YYYY-MM", valued, paid) in minor units, for the charts."""
    entries = Posting.objects.filter(program=program, account__kind=AccountKind.PAYABLE)
    if artist is not None:
        entries = entries.filter(account__artist=artist)
    by_month: dict[str, list[int]] = {}
    for day, kind, amount in entries.values_list(
        "entry__effective_date", "entry__kind", "amount_minor"
    ).order_by("entry__effective_date"):
        bucket = by_month.setdefault(day.strftime("%Y-%m"), [0, 0])
        if kind in ("acceptance", "reversal"):
            bucket[0] -= amount  # credit to the payable = valued work
        else:
            bucket[1] += amount  # debit to the payable = paid
    series, valued, paid = [], 0, 0
    for month in sorted(by_month):
        valued += by_month[month][0]
        paid += by_month[month][1]
        series.append((month, valued, paid))
    return series


def entries_for(program: Program | None = None, artist=None):
    """Ledger entries in chain order, optionally only those touching one artist's accounts."""
    entries = Entry.objects.order_by("program_id", "seq")
    if program is not None:
        entries = entries.filter(program=program)
    if artist is not None:
        touches = Posting.objects.filter(entry_id=OuterRef("pk"), account__artist=artist)
        entries = entries.filter(Exists(touches))
    return entries
