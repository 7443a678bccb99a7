"""The review queue, oldest first, and bulk acceptance."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledger import services
from ledger.errors import DomainError
from ledger.models import (
    Contribution,
)

from .. import forms
from .common import admin_required, next_url, page_of


@admin_required
def review_queue(request):
    form = forms.QueueFilterForm(request.GET or None)
    qs = (
        Contribution.objects.pending()
        .select_related("program", "artist")
        .order_by("submitted_at", "id")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["program"]:
            qs = qs.filter(program=data["program"])
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["severity"]:
            qs = qs.filter(severity=data["severity"])
    return render(
        request, "web/review_queue.html", {"form": form, "page": page_of(request, qs, 50)}
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
    try:
        accepted = services.accept_contributions(ids=form.cleaned_data["ids"], actor=request.user)
    except DomainError as error:
        messages.error(request, f"{error.message} Nothing was accepted.")
    else:
        messages.success(request, f"Accepted {len(accepted)} contribution(s).")
    return redirect(back)
