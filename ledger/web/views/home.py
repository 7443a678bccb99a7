"""The home page: an artist's balances and recent work, or staff's programs."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.shortcuts import render

from ledger import access, queries
from ledger.models import (
    Contribution,
    Membership,
    Payout,
    Program,
    Totals,
)

from ..charts import cumulative_chart


@login_required
def home(request):
    if access.is_staff(request.user):
        return _admin_home(request)
    user = request.user
    rows = queries.with_pay_deadlines(
        queries.balances(Membership.objects.filter(artist=user)).order_by("program__name")
    )
    to_confirm = queries.unconfirmed_payments(user)
    for row in rows:
        row.to_confirm = to_confirm.get(row.program.pk)
        row.chart = cumulative_chart(
            queries.monthly_series(row.program, artist=user),
            row.program.currency,
            title=f"{row.program.name}: valued work and payments, cumulative by month",
            dom_id=f"chart-{row.program.pk}",
        )
    recent_work = Contribution.objects.filter(artist=user).select_related("program")[:6]
    recent_payouts = Payout.objects.filter(artist=user).select_related("program")[:6]
    overdue_work = list(  # one more than shown: whether to link to the rest
        Contribution.objects.filter(artist=user)
        .overdue()
        .select_related("program")
        .order_by("review_due_on", "id")[: OVERDUE_SHOWN + 1]
    )
    return render(
        request,
        "web/home_artist.html",
        {
            "rows": rows,
            "recent_work": recent_work,
            "recent_payouts": recent_payouts,
            "overdue_work": overdue_work[:OVERDUE_SHOWN],
            "overdue_more": len(overdue_work) > OVERDUE_SHOWN,
        },
    )


OVERDUE_SHOWN = 20  # overdue work listed on the artist's home; the rest behind a link


def _admin_home(request):
    """Staff's dashboard: the programs it is staff of, and what waits for its roles."""
    user = request.user
    readable = access.programs_where(user, access.Action.READ)
    programs = Program.objects.order_by("name")
    memberships = Membership.objects.all()
    if readable is not None:
        programs = programs.filter(pk__in=sorted(readable))
        memberships = memberships.filter(program_id__in=sorted(readable))
    programs = list(
        programs.annotate(
            pending=Count("contributions", filter=Q(contributions__status="submitted"))
        )
    )
    overdue_work = Contribution.objects.overdue()
    if readable is not None:
        overdue_work = overdue_work.filter(program_id__in=sorted(readable))
    overdue = {
        row["program_id"]: row["n"]
        for row in overdue_work.order_by().values("program_id").annotate(n=Count("id"))
    }
    totals = {
        row["program"]: row
        for row in memberships.values("program").annotate(
            members=Count("id"),
            valued=Sum("valued_minor"),
            grants=Sum("grants_minor"),
            settlements=Sum("settlements_minor"),
        )
    }
    for program in programs:
        program.overdue = overdue.get(program.pk, 0)
        t = totals.get(program.pk, {})
        program.members = t.get("members", 0)
        money = Totals(t.get("valued") or 0, t.get("grants") or 0, t.get("settlements") or 0)
        program.valued, program.paid = money.valued, money.paid
    reviews = access.programs_where(user, access.Action.REVIEW)
    pending = sum(p.pending for p in programs if reviews is None or p.pk in reviews)
    pending_overdue = sum(p.overdue for p in programs if reviews is None or p.pk in reviews)
    pays = access.programs_where(user, access.Action.PAY)
    proposals = None
    if pays is None or pays:
        proposals = Payout.objects.proposed()
        if pays is not None:
            proposals = proposals.filter(program_id__in=sorted(pays))
        proposals = proposals.count()
    return render(
        request,
        "web/home_admin.html",
        {
            "programs": programs,
            "pending": pending,
            "pending_overdue": pending_overdue,
            "proposals": proposals,
        },
    )
