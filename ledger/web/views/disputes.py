"""Disputes: opening one from a contribution or a payout, the queue, a dispute's page with its
timeline, and the decisions (uphold, dismiss) and withdrawal, each shown only to who may take
it (`services.disputes.step_refusal`, the services' own check)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ledger import access, queries, routing, services
from ledger.errors import DomainError
from ledger.models import (
    AuditEvent,
    Contribution,
    Dispute,
    DisputeStatus,
    DisputeSubject,
    Payout,
    Program,
)
from ledger.services import disputes

from .. import forms
from .common import page_of, show_domain_error

DECIDE, WITHDRAW = access.DisputeStep.DECIDE, access.DisputeStep.WITHDRAW


@login_required
@routing.replica_reads()
def dispute_list(request):
    """The disputes the user sees: open ones first, oldest first (the staff's queue; an
    artist's own)."""
    user = request.user
    programs = Program.objects.visible_to(user).order_by("name")
    form = forms.DisputeFilterForm(request.GET or None, programs=programs)
    filters = {}
    if form.is_valid():
        program = form.cleaned_data["program"]
        filters = {
            "program_id": program.pk if program else None,
            "status": form.cleaned_data["status"] or None,
        }
    disputes_seen = queries.dispute_queue(user, **filters)
    return render(
        request,
        "web/dispute_list.html",
        {"form": form, "page": page_of(request, disputes_seen, 50)},
    )


def _visible_dispute(request, pk):
    return get_object_or_404(
        Dispute.objects.visible_to(request.user).select_related(
            "program", "artist", "decided_by", "contribution", "payout"
        ),
        pk=pk,
    )


TIMELINE_LABELS = {
    "dispute.open": "Opened",
    "dispute.uphold": "Upheld",
    "dispute.dismiss": "Dismissed",
    "dispute.withdraw": "Withdrawn",
}


def _timeline(dispute):
    events = AuditEvent.objects.filter(object_type="dispute", object_id=str(dispute.pk))
    return [
        {
            "at": event.at,
            "label": TIMELINE_LABELS.get(event.action, event.action),
            "actor": event.actor,
            "note": (event.data or {}).get("note", ""),
            "outcome": (event.data or {}).get("outcome", ""),
        }
        for event in events.select_related("actor")
    ]


def _detail_context(request, dispute, **forms_given):
    """The dispute's page: its facts, timeline and resulting entry, and the forms of the
    steps the user may take; staff who may not decide it see why (`step_refusal`)."""
    user = request.user
    subject = dispute.subject
    context = {
        "d": dispute,
        "subject": subject,
        "timeline": _timeline(dispute),
        "result": queries.resulting_entry(dispute),
        "staff_here": access.scope_of(user).staff_of(dispute.program_id),
    }
    if dispute.status != DisputeStatus.OPEN:
        return context
    refused = disputes.step_refusal(user, dispute, DECIDE, subject)
    if refused is None:
        context["uphold_form"] = forms_given.get("uphold_form") or forms.DisputeDecisionForm(
            dispute=dispute, with_valuation=True, prefix="uphold"
        )
        context["dismiss_form"] = forms_given.get("dismiss_form") or forms.DisputeDecisionForm(
            prefix="dismiss"
        )
    elif context["staff_here"]:
        context["decision_refused"] = refused
    context["can_withdraw"] = disputes.step_refusal(user, dispute, WITHDRAW, subject) is None
    return context


@login_required
def dispute_detail(request, pk):
    dispute = _visible_dispute(request, pk)
    return render(request, "web/dispute_detail.html", _detail_context(request, dispute))


def _decide(request, pk, *, prefix, service, done, **form_options):
    dispute = _visible_dispute(request, pk)
    form = forms.DisputeDecisionForm(request.POST, dispute=dispute, prefix=prefix, **form_options)
    if form.is_valid():
        try:
            service(dispute=dispute, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, f"{done} dispute #{dispute.pk}.")
            return redirect("dispute_detail", pk=dispute.pk)
    context = _detail_context(request, dispute, **{f"{prefix}_form": form})
    return render(request, "web/dispute_detail.html", context)


@login_required
@require_POST
def dispute_uphold(request, pk):
    return _decide(
        request,
        pk,
        prefix="uphold",
        service=services.uphold_dispute,
        done="Upheld",
        with_valuation=True,
    )


@login_required
@require_POST
def dispute_dismiss(request, pk):
    return _decide(
        request, pk, prefix="dismiss", service=services.dismiss_dispute, done="Dismissed"
    )


@login_required
@require_POST
def dispute_withdraw(request, pk):
    dispute = _visible_dispute(request, pk)
    try:
        services.withdraw_dispute(dispute=dispute, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Withdrew dispute #{dispute.pk}.")
    return redirect("dispute_detail", pk=dispute.pk)


CLAIM_WORDS = {
    "rejection": "This work was wrongly rejected",
    "valuation": "This work was valued too low",
    "not_received": "I never received this payment",
}


def _open(request, subject):
    """The artist's dispute about `subject`: what it may claim and until when, or why not;
    the statement form, posted to `open_dispute`."""
    options = disputes.open_options(request.user, subject)
    form = forms.DisputeForm(request.POST or None)
    if request.method == "POST" and options.refused is None and form.is_valid():
        try:
            dispute = services.open_dispute(
                actor=request.user,
                subject=subject,
                claim=options.claim,
                statement=form.cleaned_data["statement"],
                evidence_url=form.cleaned_data["evidence_url"],
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(
                request,
                f"Opened dispute #{dispute.pk}; the program's staff have been told.",
            )
            return redirect("dispute_detail", pk=dispute.pk)
    kind = disputes.subject_type_of(subject)
    return render(
        request,
        "web/dispute_open.html",
        {
            "subject": subject,
            "kind": kind,
            "options": options,
            "claim_words": CLAIM_WORDS.get(options.claim or "", ""),
            "window_closed": options.refused is not None
            and options.refused.code == "dispute_window_closed",
            "form": form,
        },
    )


@login_required
def dispute_contribution(request, pk):
    contribution = get_object_or_404(
        Contribution.objects.visible_to(request.user).select_related("program", "reviewed_by"),
        pk=pk,
    )
    return _open(request, contribution)


@login_required
def dispute_payout(request, pk):
    payout = get_object_or_404(
        Payout.objects.visible_to(request.user).select_related("program"), pk=pk
    )
    return _open(request, payout)


def subject_disputes(subject):
    """The disputes about a contribution or payout, newest first, for its page."""
    field = (
        "contribution"
        if disputes.subject_type_of(subject) == DisputeSubject.CONTRIBUTION
        else "payout"
    )
    return Dispute.objects.filter(**{field: subject}).order_by("-opened_at", "-id")


def dispute_offer(user, subject):
    """What the subject's page says about disputing it: for its artist, the open options
    (a link, or why not); for anyone else nothing."""
    if user.pk != subject.artist_id or not disputes.claims_for(subject):
        return None
    return disputes.open_options(user, subject)


__all__ = [
    "dispute_contribution",
    "dispute_detail",
    "dispute_dismiss",
    "dispute_list",
    "dispute_offer",
    "dispute_payout",
    "dispute_uphold",
    "dispute_withdraw",
    "subject_disputes",
]
