"""The public transparency pages."""

from decimal import Decimal

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from ledger import queries, routing
from ledger.models import (
    Program,
)

from ..charts import cumulative_chart


@routing.replica_reads()
def transparency_index(request):
    programs = Program.objects.public().order_by("name")
    return render(request, "web/transparency_index.html", {"programs": programs})


@routing.replica_reads()
def transparency(request, pk):
    readable = queries.readable_report(request.user, pk)
    if readable is None:
        raise Http404("No such program.")
    program, report, withheld = readable
    minimum = settings.LEDGER_REPORT_MIN_CONTRIBUTORS
    chart = None
    if not withheld:
        chart = cumulative_chart(
            queries.monthly_series(program),
            program.currency,
            title=f"{program.name}: valued work and payments, cumulative by month",
        )
    return render(
        request,
        "web/transparency.html",
        {
            "program": program,
            "report": report,
            "withheld": withheld,
            "minimum": minimum,
            "chart": chart,
            "paid_percent": None
            if report.paid_ratio is None
            else (report.paid_ratio * 100).quantize(Decimal("0.1")),
        },
    )
