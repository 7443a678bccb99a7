"""Reads: balances, statements and program reports. All amounts are integer minor units.

Sign conventions follow the API: an artist's balance is what the program owes it (positive =
owed); statement lines are positive for valued work and negative for payments.
"""

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ledger.models import (
    Account,
    AccountKind,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Entry,
    LedgerHead,
    Membership,
    Payout,
    PayoutStatus,
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

    Per artist, payments (grants and settlements not voided, in `paid_on` order) settle
    accepted, unreversed work oldest acceptance first. Paid in advance counts as 0 days.
    """
    work: dict[int, list[tuple[dt.date, int]]] = {}
    for artist_id, accepted_on, value in (
        Contribution.objects.filter(program=program, status=ContributionStatus.ACCEPTED)
        .exclude(value_minor=0)
        .order_by("artist_id", "reviewed_at", "id")
        .values_list("artist_id", "accepted_on", "value_minor")
    ):
        work.setdefault(artist_id, []).append((accepted_on, value))
    payments: dict[int, list[tuple[dt.date, int]]] = {}
    for artist_id, paid_on, amount in (
        Payout.objects.filter(program=program, status=PayoutStatus.PAID, artist_id__in=work)
        .order_by("artist_id", "paid_on", "id")
        .values_list("artist_id", "paid_on", "amount_minor")
    ):
        payments.setdefault(artist_id, []).append((paid_on, amount))

    days: list[int] = []
    for artist_id, items in work.items():
        queue = iter(payments.get(artist_id, []))
        paid_on, left = None, 0
        for accepted_on, need in items:
            while need > 0:
                if left == 0:
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    paid_on, left = nxt
                used = min(need, left)
                need -= used
                left -= used
            if need > 0:
                break  # this and all later work is not fully paid yet
            days.append(max(0, (paid_on - accepted_on).days))
    if not days:
        return None
    return Decimal(str(statistics.median(days))).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


def program_report(program: Program) -> Report:
    """The transparency figures of one program (no artist identities)."""
    work = Contribution.objects.filter(program=program).accepted()
    counts = work.aggregate(
        contributors=Count("artist", distinct=True),
        hours=Coalesce(Sum("hours", filter=Q(kind=ContributionKind.FEEDBACK)), Decimal(0)),
        bugs=Count("id", filter=Q(kind=ContributionKind.BUG_REPORT)),
    )
    members = Membership.objects.filter(program=program)
    totals = members.aggregate(
        valued=Coalesce(Sum("valued_minor"), 0),
        grants=Coalesce(Sum("grants_minor"), 0),
        settlements=Coalesce(Sum("settlements_minor"), 0),
    )
    outstanding = paid_ahead = 0
    for valued, grants, settlements in members.values_list(
        "valued_minor", "grants_minor", "settlements_minor"
    ):
        owed = valued - grants - settlements
        if owed > 0:
            outstanding += owed
        else:
            paid_ahead -= owed
    paid = totals["grants"] + totals["settlements"]
    ratio = None
    if totals["valued"]:
        ratio = (Decimal(paid) / Decimal(totals["valued"])).quantize(
            Decimal("0.0001"), ROUND_HALF_EVEN
        )
    head = LedgerHead.objects.filter(program=program).first()
    return Report(
        program=program,
        contributors=counts["contributors"],
        feedback_hours=Decimal(counts["hours"]).quantize(Decimal("0.01")),
        bug_reports_accepted=counts["bugs"],
        valued_minor=totals["valued"],
        grants_minor=totals["grants"],
        settlements_minor=totals["settlements"],
        outstanding_minor=outstanding,
        paid_ahead_minor=paid_ahead,
        paid_ratio=ratio,
        median_days_to_payment=median_days_to_payment(program),
        head_hash=head.hash if head and head.seq else None,
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
