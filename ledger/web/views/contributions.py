"""Contributions: logging work (with the rate preview), the list, the detail and its review."""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ledger import access, clock, routing, services
from ledger.errors import DomainError
from ledger.models import (
    AuditEvent,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Program,
    RateCard,
    Severity,
)
from ledger.money import MoneyError, parse_hours
from ledger.params import parse_id

from .. import forms
from .common import admin_required, next_url, page_of, show_domain_error
from .disputes import dispute_offer, subject_disputes


@login_required
@routing.replica_reads()
def contribution_list(request):
    user = request.user
    programs = Program.objects.visible_to(user).order_by("name")
    form = forms.ContributionFilterForm(request.GET or None, programs=programs)
    qs = Contribution.objects.visible_to(user).select_related("program", "artist")
    if form.is_valid():
        if form.cleaned_data["status"]:
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["program"]:
            qs = qs.filter(program=form.cleaned_data["program"])
        if form.cleaned_data["overdue"]:
            qs = qs.overdue()
    return render(
        request, "web/contribution_list.html", {"form": form, "page": page_of(request, qs)}
    )


def _current_cards(programs):
    """Each program with the rate card in effect today (or None)."""
    today = clock.today()
    return [(program, RateCard.objects.in_effect(program.pk, today)) for program in programs]


def _log_work(request, form_class, template):
    form = form_class(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            contribution = services.submit_contribution(
                actor=request.user,
                program=data["program"],
                kind=form_class.kind,
                title=data["title"],
                occurred_on=data["occurred_on"],
                description=data["description"],
                hours=data.get("hours"),
                severity=data.get("severity"),
                reference=data.get("reference") or "",
                artist=data.get("artist"),
            )
        except DomainError as error:
            forms.apply_domain_error(form, error)
        else:
            messages.success(request, f"Logged “{contribution.title}”; it is waiting for review.")
            return redirect("contribution_detail", pk=contribution.pk)
    programs = list(form.fields["program"].queryset)
    context = {
        "form": form,
        "kind": form_class.kind,
        "cards": _current_cards(programs),
        "preview": _preview(
            request.user,
            form["program"].value() or (programs[0].pk if programs else None),
            form["occurred_on"].value(),
            form_class.kind,
            hours=form["hours"].value() if "hours" in form.fields else None,
            severity=form["severity"].value() if "severity" in form.fields else None,
        ),
    }
    return render(request, template, context)


@login_required
def log_feedback(request):
    return _log_work(request, forms.FeedbackForm, "web/log_feedback.html")


@login_required
def log_bug(request):
    return _log_work(request, forms.BugReportForm, "web/log_bug.html")


def _preview(user, program_id, occurred_on, kind, *, hours=None, severity=None):
    """What the rate card in effect on `occurred_on` pays for this kind of work."""
    program_id = parse_id(program_id)
    program = Program.objects.visible_to(user).filter(pk=program_id).first() if program_id else None
    if program is None:
        return {"message": "Choose a program to see the rate that applies."}
    try:
        day = django_forms.DateField().to_python(occurred_on) if occurred_on else None
    except django_forms.ValidationError:
        return {"program": program, "message": "Choose a valid date."}
    if day is None:
        return {"program": program, "message": "Choose the date of the work."}
    card = RateCard.objects.in_effect(program.pk, day)
    if card is None:
        return {"program": program, "day": day, "message": "No rate card is in effect then."}
    preview = {"program": program, "day": day, "card": card, "kind": kind}
    if kind == ContributionKind.FEEDBACK:
        preview["rate_minor"] = card.hourly_rate_minor
        try:
            parsed = parse_hours(hours) if hours else None
        except MoneyError:
            parsed = None
        if parsed is not None:
            preview["hours"] = parsed
            preview["estimate_minor"] = card.value_of(kind=kind, hours=parsed)
    else:
        if severity in Severity.values:
            preview["severity"] = Severity(severity).label
            preview["rate_minor"] = card.bounty_minor(severity)
        preview["bounties"] = [(s.label, card.bounty_minor(s.value)) for s in Severity]
    return preview


@login_required
@require_GET
def rate_preview(request):
    preview = _preview(
        request.user,
        request.GET.get("program"),
        request.GET.get("occurred_on"),
        request.GET.get("kind"),
        hours=request.GET.get("hours"),
        severity=request.GET.get("severity"),
    )
    return render(request, "web/_rate_preview.html", {"preview": preview})


def _visible_contribution(request, pk):
    return get_object_or_404(
        Contribution.objects.visible_to(request.user).select_related(
            "program", "artist", "submitted_by", "reviewed_by", "closed_by", "rate_card"
        ),
        pk=pk,
    )


ACTION_LABELS = {
    "contribution.submit": "Submitted",
    "contribution.accept": "Accepted",
    "contribution.reject": "Rejected",
    "contribution.withdraw": "Withdrawn",
    "contribution.reverse": "Reversed",
    "contribution.adjust": "Revalued after a dispute",
}


def _timeline(contribution):
    events = AuditEvent.objects.filter(
        object_type="contribution", object_id=str(contribution.pk)
    ).select_related("actor")
    timeline = []
    for event in events:
        data = event.data or {}
        label = ACTION_LABELS.get(event.action, event.action)
        if event.action == "contribution.remind":
            label = f"Reviewers reminded: its review was due {data.get('review_due_on')}"
        timeline.append(
            {
                "at": event.at,
                "label": label,
                "actor": event.actor,
                "why": data.get("reason") or data.get("note") or "",
                "value_minor": data.get("value_minor"),
                "dispute": data.get("dispute"),
                "changes": data.get("changes") or {},
                # No actor, and a rule named: the system (`apply_deadlines`) acted.
                "by_system": event.actor_id is None and bool(data.get("rule")),
            }
        )
    return timeline


def _detail_context(request, contribution, **forms_given):
    """The contribution page: its facts and timeline, and the review forms where the user may
    review it. Staff of its program who may not (an auditor; a reviewer on its own work) see
    why instead, from `access.refusal`: the error the service would raise."""
    context = {"c": contribution, "timeline": _timeline(contribution)}
    user = request.user
    status = contribution.status
    reviewable = status in (ContributionStatus.SUBMITTED, ContributionStatus.ACCEPTED)
    refused = access.refusal(
        user, access.Action.REVIEW, contribution.program_id, artist_id=contribution.artist_id
    )
    if reviewable and refused is None:
        if status == ContributionStatus.SUBMITTED:
            context["accept_form"] = forms_given.get("accept_form") or forms.AcceptForm(
                contribution=contribution
            )
            context["reject_form"] = forms_given.get("reject_form") or forms.ReasonForm(
                prefix="reject"
            )
        else:
            context["reverse_form"] = forms_given.get("reverse_form") or forms.ReasonForm(
                prefix="reverse"
            )
    elif reviewable and access.scope_of(user).staff_of(contribution.program_id):
        context["review_refused"] = refused
    context["can_withdraw"] = (
        contribution.artist_id == user.pk and status == ContributionStatus.SUBMITTED
    )
    context["disputes"] = subject_disputes(contribution)
    context["dispute_offer"] = dispute_offer(user, contribution)
    return context


@login_required
def contribution_detail(request, pk):
    contribution = _visible_contribution(request, pk)
    return render(request, "web/contribution_detail.html", _detail_context(request, contribution))


@login_required
@require_POST
def contribution_withdraw(request, pk):
    contribution = _visible_contribution(request, pk)
    try:
        services.withdraw_contribution(contribution=contribution, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Withdrew “{contribution.title}”.")
    return redirect(next_url(request, reverse("contribution_detail", args=[pk])))


@admin_required
@require_POST
def contribution_accept(request, pk):
    contribution = _visible_contribution(request, pk)
    form = forms.AcceptForm(request.POST, contribution=contribution)
    error = None
    if form.is_valid():
        try:
            contribution = services.accept_contribution(
                contribution=contribution,
                actor=request.user,
                note=form.cleaned_data["note"],
                hours=form.cleaned_data.get("hours"),
                severity=form.cleaned_data.get("severity"),
            )
        except DomainError as exc:
            error = exc
            show_domain_error(request, form, exc)
    else:
        error = True
    if request.htmx:
        return render(
            request,
            "web/_queue_row.html",
            {"c": contribution, "row_error": error and (form.errors or error), "just": True},
        )
    if error:
        context = _detail_context(request, contribution, accept_form=form)
        return render(request, "web/contribution_detail.html", context)
    messages.success(request, f"Accepted “{contribution.title}”.")
    return redirect(next_url(request, reverse("contribution_detail", args=[pk])))


def _reason_action(request, pk, *, service, prefix, done):
    contribution = _visible_contribution(request, pk)
    form = forms.ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            service(
                contribution=contribution,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, f"{done} “{contribution.title}”.")
            return redirect(next_url(request, reverse("contribution_detail", args=[pk])))
    context = _detail_context(request, contribution, **{f"{prefix}_form": form})
    return render(request, "web/contribution_detail.html", context)


@admin_required
@require_POST
def contribution_reject(request, pk):
    return _reason_action(
        request, pk, service=services.reject_contribution, prefix="reject", done="Rejected"
    )


@admin_required
@require_POST
def contribution_reverse(request, pk):
    return _reason_action(
        request, pk, service=services.reverse_contribution, prefix="reverse", done="Reversed"
    )
