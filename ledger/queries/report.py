"""A program's transparency report, and who may read which of its figures."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from ledger import access, clock, routing
from ledger.models import (
    Contribution,
    Dispute,
    DisputeStatus,
    LedgerHead,
    Membership,
    Program,
    Totals,
)

from .fifo import overdue_of, pay_cutoff
from .report_cache import BUGS, HOURS_X100, WorkCounts, from_scratch, posted_work


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
    paid_confirmed_minor: int = 0  # paid payouts (voids excluded) their artists confirmed
    reviews_overdue: int = 0  # submitted work past its review due date, today
    overdue_outstanding_minor: int = 0  # the sum of the balances' `overdue`, today
    disputes_open: int = 0
    disputes_upheld: int = 0
    disputes_dismissed: int = 0

    @property
    def paid_minor(self) -> int:
        return Totals(self.valued_minor, self.grants_minor, self.settlements_minor).paid

    @property
    def currency(self) -> str:
        return self.program.currency


def readable_report(user, program_id: int) -> tuple[Program, Report, bool] | None:
    """A program's report as `user` may read it: (program, report, withheld), or None when
    the reader may not see the program at all (a 404 on both interfaces).

    Its members and staff read any program's; everyone else only a public one's, with the
    figures withheld while too few artists contributed (`access.report_withheld`).
    """
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        return None
    insider = access.is_insider(user, program)
    if not (insider or program.public):
        return None
    report = program_report(program)
    withheld = access.report_withheld(insider=insider, contributors=report.contributors)
    return program, report, withheld


def median_days_to_payment(program: Program) -> Decimal | None:
    """Days from acceptance to the payment that completed it, median over settled work.

    Payments settle work first in, first out (`fifo.FIFO_CTE`, the matching's one home);
    paid in advance counts as 0 days. Only histograms of days come back (per artist,
    `ARTIST_WORK_SQL`), and the median is taken from their sum exactly as
    `statistics.median` would from the list of days.

    Computed from scratch; `program_report` stores the same figures per artist, kept up to date.
    """
    return from_scratch(program).median_days


def program_report(program: Program) -> Report:
    """The transparency figures of one program (no artist identities).

    Cheap at any size: what needs every accepted contribution and payout of the
    program (the median days to payment and the counts of posted work) is stored per artist
    in the database, shared by every server, and recomputed only for the artists whose
    payable moved since it was stored (`posted_work`); the rest is read live: zero-value
    work (which posts no entry), the memberships' maintained totals, the head.
    """
    today = clock.today()
    head = LedgerHead.objects.filter(program=program).first()
    posted = posted_work(program, head)
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
    paid = Totals(totals["valued"], totals["grants"], totals["settlements"]).paid
    ratio = None
    if totals["valued"]:
        ratio = (Decimal(paid) / Decimal(totals["valued"])).quantize(
            Decimal("0.0001"), ROUND_HALF_EVEN
        )
    disputes = dict(
        Dispute.objects.filter(program=program)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
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
        paid_confirmed_minor=_paid_confirmed_minor(program),
        reviews_overdue=Contribution.objects.filter(program=program).overdue(today).count(),
        # The balances' `overdue` summed: unpaid work kept per artist with the figures above.
        overdue_outstanding_minor=overdue_of(
            posted.unpaid, pay_cutoff(program.pay_within_days, today)
        ),
        disputes_open=disputes.get(DisputeStatus.OPEN, 0),
        disputes_upheld=disputes.get(DisputeStatus.UPHELD, 0),
        disputes_dismissed=disputes.get(DisputeStatus.DISMISSED, 0),
    )


# Read live: a confirmation posts no entry, so nothing kept per artist would notice it. From
# the partial index `payout_confirmed` alone on PostgreSQL. A payout voided after it was
# confirmed is `void`, so it drops out.
_PAID_CONFIRMED_SQL = (
    "SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_payout "
    "WHERE program_id = %s AND status = 'paid' AND acknowledged = 'confirmed'"
)


def _paid_confirmed_minor(program: Program) -> int:
    with routing.read_connection().cursor() as cursor:
        cursor.execute(_PAID_CONFIRMED_SQL, [program.pk])
        return int(cursor.fetchone()[0])


# Accepted work of value 0 (no acceptance entry; NULL is not valid but counted as the report
# always did), per artist.
_UNPOSTED_WORK_TEMPLATE = """
SELECT c.artist_id, HOURS_X100, BUGS
  FROM ledger_contribution c
 WHERE c.program_id = %s AND c.status = 'accepted'
   AND (c.value_minor = 0 OR c.value_minor IS NULL)
 GROUP BY c.artist_id
"""


_UNPOSTED_WORK_SQL = _UNPOSTED_WORK_TEMPLATE.replace("HOURS_X100", HOURS_X100).replace("BUGS", BUGS)


def _work_counts(sql: str, program: Program) -> WorkCounts:
    with routing.read_connection().cursor() as cursor:
        cursor.execute(sql, [program.pk])
        rows = cursor.fetchall()
    return WorkCounts(
        artist_ids=frozenset(artist_id for artist_id, _, _ in rows),
        hours_x100=sum(int(hours) for _, hours, _ in rows),
        bugs=sum(int(bugs) for _, _, bugs in rows),
    )
