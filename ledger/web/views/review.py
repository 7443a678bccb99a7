"""The review queue, oldest first (overdue work flagged), and bulk acceptance."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledger import access, services
from ledger.errors import DomainError
from ledger.models import (
    Contribution,
)

from .. import forms
from .common import admin_required, next_url, page_of, staff_programs


@admin_required
def review_queue(request):
    """Work waiting for review in the programs the user reads (its staff); the accept
    buttons are offered where the user may review (`_queue_row.html` asks `access`)."""
    form = forms.QueueFilterForm(request.GET or None, programs=staff_programs(request.user))
    qs = (
        Contribution.objects.pending()
        .select_related("program", "artist")
        .order_by("submitted_at", "id")
    )
    readable = access.programs_where(request.user, access.Action.READ)
    if readable is not None:
        qs = qs.filter(program_id__in=sorted(readable))
    if form.is_valid():
        data = form.cleaned_data
        if data["program"]:
            qs = qs.filter(program=data["program"])
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["severity"]:
            qs = qs.filter(severity=data["severity"])
        if data["overdue"]:
            qs = qs.overdue()
    reviews = access.programs_where(request.user, access.Action.REVIEW)
    return render(
        request,
        "web/review_queue.html",
        {
            "form": form,
            "page": page_of(request, qs, 50),
            "overdue_count": qs.overdue().count(),
            "can_bulk_accept": reviews is None or bool(reviews),
        },
    )


@admin_required
@require_POST
def review_bulk_accept(request):
    """Accept every selected contribution, or none of them if any one cannot be accepted."""
    form = forms.BulkAcceptForm(request.POST)
    back = next_url(request, reverse("review_queue"))
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("ids", ["Nothing selected."])))
        return redirect(back)
    ids = form.cleaned_data["ids"]
    # Work the user cannot see is, to it, work that is not waiting: refused without naming it.
    if Contribution.objects.visible_to(request.user).filter(pk__in=ids).count() != len(set(ids)):
        messages.error(
            request,
            "Some selected contributions are no longer waiting for review. Nothing was accepted.",
        )
        return redirect(back)
    try:
        accepted = services.accept_contributions(ids=ids, actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} Nothing was accepted.")
    else:
        messages.success(request, f"Accepted {len(accepted)} contribution(s).")
    return redirect(back)
