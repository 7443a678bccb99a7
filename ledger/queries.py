"""Reads: balances, statements and program reports. All amounts are integer minor units.

Sign conventions follow the API: an artist's balance is what the program owes it (positive =
owed); statement lines are positive for valued work and negative for payments.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.core.cache import cache
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
    into the statement, never a value.
    """

    def __init__(self, select: str, conditions: list[tuple[str, object]], order_by: str):
        self.select, self.order_by = select, order_by
        self.where = " AND ".join(sql for sql, _ in conditions) or "1 = 1"
        self.params = [param for _, param in conditions]

    def __getitem__(self, window: slice) -> list[dict]:
        offset = window.start or 0
        sql = f"{self.select} WHERE {self.where} ORDER BY {self.order_by} LIMIT %s OFFSET %s"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, window.stop - offset, offset])
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
    the completing payment's date; work with none seen is not fully paid yet. Only a
    histogram of days (a few hundred rows) comes back, and the median is taken from it exactly
    as `statistics.median` would from the list of days.
    """
    with connection.cursor() as cursor:
        cursor.execute(_MEDIAN_DAYS_SQL[connection.vendor], [program.pk, program.pk])
        histogram = [(int(days), count) for days, count in cursor.fetchall()]
    return median_of_histogram(histogram)


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


# One statement for both databases but the day difference (PostgreSQL: date - date is an
# integer of days; SQLite keeps dates as ISO text, so julianday). Status literals are the
# values of ContributionStatus.ACCEPTED and PayoutStatus.PAID, written out so PostgreSQL can
# match the partial indexes contribution_accepted_fifo and payout_paid_fifo to the query.
# Sums are minor units; days are whole days.
_MEDIAN_DAYS_TEMPLATE = """
WITH stream AS (
    SELECT c.artist_id, 0 AS is_payment, c.accepted_on AS day,
           SUM(c.value_minor) OVER (
               PARTITION BY c.artist_id ORDER BY c.reviewed_at, c.id ROWS UNBOUNDED PRECEDING
           ) AS upto
      FROM ledger_contribution c
     WHERE c.program_id = %s AND c.status = 'accepted' AND c.value_minor <> 0
    UNION ALL
    SELECT p.artist_id, 1, p.paid_on,
           SUM(p.amount_minor) OVER (
               PARTITION BY p.artist_id ORDER BY p.paid_on, p.id ROWS UNBOUNDED PRECEDING
           )
      FROM ledger_payout p
     WHERE p.program_id = %s AND p.status = 'paid'
), settled AS (
    SELECT is_payment, day AS accepted_on,
           MIN(CASE WHEN is_payment = 1 THEN day END) OVER (
               PARTITION BY artist_id ORDER BY upto DESC, is_payment DESC
               ROWS UNBOUNDED PRECEDING
           ) AS paid_on
      FROM stream
)
SELECT DAYS AS days, COUNT(*) FROM settled
 WHERE is_payment = 0 AND paid_on IS NOT NULL
 GROUP BY 1 ORDER BY 1
"""
_MEDIAN_DAYS_SQL = {
    "postgresql": _MEDIAN_DAYS_TEMPLATE.replace("DAYS", "GREATEST(paid_on - accepted_on, 0)"),
    "sqlite": _MEDIAN_DAYS_TEMPLATE.replace(
        "DAYS", "MAX(CAST(julianday(paid_on) - julianday(accepted_on) AS INTEGER), 0)"
    ),
}


def program_report(program: Program) -> Report:
    """The transparency figures of one program (no artist identities).

    Instant at any size (issue 7): what needs every accepted contribution and payout of the
    program (the median days to payment and the counts of posted work) is computed once per
    state of the program's hash chain and cached (`_posted_work`); the rest is read live:
    zero-value work (which posts no entry), the memberships' maintained totals, the head.
    """
    head = LedgerHead.objects.filter(program=program).first()
    posted = _posted_work(program, head)
    # Accepted work of value 0 (or NULL): changes without an entry, so it is never cached.
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


# Accepted work per artist: posted (value > 0, so an acceptance entry exists) or not (value 0;
# NULL is not valid but counted as the report always did). Hours are summed as integer
# hundredths: exact on SQLite too, where a DECIMAL column holds floats.
_WORK_COUNTS_TEMPLATE = """
SELECT c.artist_id,
       SUM(CASE WHEN c.kind = 'feedback' THEN CAST(ROUND(c.hours * 100) AS BIGINT) ELSE 0 END),
       SUM(CASE WHEN c.kind = 'bug_report' THEN 1 ELSE 0 END)
  FROM ledger_contribution c
 WHERE c.program_id = %s AND c.status = 'accepted' AND WHICH
 GROUP BY c.artist_id
"""
_POSTED_WORK_SQL = _WORK_COUNTS_TEMPLATE.replace("WHICH", "c.value_minor <> 0")
_UNPOSTED_WORK_SQL = _WORK_COUNTS_TEMPLATE.replace(
    "WHICH", "(c.value_minor = 0 OR c.value_minor IS NULL)"
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


def _posted_work(program: Program, head: LedgerHead | None) -> WorkCounts:
    """Counts and median days of accepted work of value > 0 and of paid payouts, cached.

    Why a cache keyed by the chain head (seq, hash) is exact: these figures read only
    accepted contributions of value > 0 (artist, kind, hours, value, reviewed_at,
    accepted_on, id) and paid payouts (artist, amount, paid_on, id). Each of those rows
    enters or leaves the set only in the transaction that posts an entry to the program
    (acceptance, reversal, payout, void: ledger/services), which moves the head, and their
    fields do not change afterwards; `tests/ledger/test_report_median.py` drives the services
    at random and checks the cached report against a fresh one after every step. The head of
    committed history identifies that history (seq plus the hash of everything before), so
    the key cannot name two states. The value is stored only if the head read before the
    computation is still the head after it (no entry committed in between, so every
    statement saw that one state) and outside any transaction (an uncommitted state could be
    rolled back and its seq reused).
    """
    if head is None:
        return _compute_posted_work(program)
    key = _posted_work_key(program, head)
    cached = cache.get(key)
    if cached is not None:
        return cached
    figures = _compute_posted_work(program)
    if not connection.in_atomic_block:
        after = LedgerHead.objects.filter(program=program).values_list("seq", "hash").first()
        if after == (head.seq, head.hash):
            cache.set(key, figures, timeout=_POSTED_WORK_CACHE_SECONDS)
    return figures


_POSTED_WORK_CACHE_SECONDS = 24 * 3600  # a stale key is never read again; this only frees it


def _posted_work_key(program: Program, head: LedgerHead) -> str:
    database = f"{connection.alias}:{connection.settings_dict['NAME']}"
    return f"ledger:report:v1:{database}:{program.pk}:{head.seq}:{head.hash}"


def _compute_posted_work(program: Program) -> WorkCounts:
    counts = _work_counts(_POSTED_WORK_SQL, program)
    return WorkCounts(
        artist_ids=counts.artist_ids,
        hours_x100=counts.hours_x100,
        bugs=counts.bugs,
        median_days=median_days_to_payment(program),
    )


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
