"""Pages. Each view checks who may see what, validates the form, calls one service and renders.

Visibility before role, as in the API: an object the user may not see is a 404; a page its
role may not use is a 403. Every write is a POST through a service; a domain error is shown
beside the form field it names and nothing is written. A form with errors is re-rendered
with status 200, as Django's own form views do (browsers log 4xx page loads as errors).
"""

import functools
from decimal import Decimal

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts import tokens
from ledger import clock, queries, services
from ledger.errors import DomainError, InsufficientBalance, ValidationFailed
from ledger.exports import downloads
from ledger.exports.pdf import statement_context
from ledger.models import (
    AuditEvent,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Membership,
    Payout,
    PayoutKind,
    PayoutStatus,
    Program,
    RateCard,
    Severity,
)
from ledger.money import MoneyError, display, parse_hours
from ledger.params import parse_id, parse_positive
from ledger.services.valuation import value_with

from . import forms
from .charts import cumulative_chart

PAGE_SIZE = 25


def admin_required(view):
    """Signed-in admins only: others get a 403 (anonymous users go to the login page)."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_admin:
            raise PermissionDenied("Only an admin may use this page.")
        return view(request, *args, **kwargs)

    return wrapped


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    # A path on this site only: `redirect()` would read anything else without a slash as a
    # view name to reverse ("home", or "²", which fails), and host checks apply to the rest.
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return default


def _page(request, queryset, size=PAGE_SIZE):
    # A malformed page number is the first page, as Paginator.get_page does for non-numbers.
    return Paginator(queryset, size).get_page(parse_positive(request.GET.get("page")))


class _DryRun(Exception):
    """Raised to roll back a service call made only to check its input."""


def _check_with_service(service, **kwargs) -> None:
    """Run `service` inside a transaction that is always rolled back: its checks, no writes."""
    try:
        with transaction.atomic():
            service(**kwargs)
            raise _DryRun
    except _DryRun:
        pass


# --- Home ---------------------------------------------------------------------------------


@login_required
def home(request):
    if request.user.is_admin:
        return _admin_home(request)
    user = request.user
    rows = list(queries.balances(Membership.objects.filter(artist=user)).order_by("program__name"))
    for row in rows:
        row.chart = cumulative_chart(
            queries.monthly_series(row.program, artist=user),
            row.program.currency,
            title=f"{row.program.name}: valued work and payments, cumulative by month",
            dom_id=f"chart-{row.program.pk}",
        )
    recent_work = Contribution.objects.filter(artist=user).select_related("program")[:6]
    recent_payouts = Payout.objects.filter(artist=user).select_related("program")[:6]
    return render(
        request,
        "web/home_artist.html",
        {"rows": rows, "recent_work": recent_work, "recent_payouts": recent_payouts},
    )


def _admin_home(request):
    programs = list(
        Program.objects.order_by("name").annotate(
            pending=Count("contributions", filter=Q(contributions__status="submitted"))
        )
    )
    totals = {
        row["program"]: row
        for row in Membership.objects.values("program").annotate(
            members=Count("id"),
            valued=Sum("valued_minor"),
            grants=Sum("grants_minor"),
            settlements=Sum("settlements_minor"),
        )
    }
    for program in programs:
        t = totals.get(program.pk, {})
        program.members = t.get("members", 0)
        program.valued = t.get("valued") or 0
        program.paid = (t.get("grants") or 0) + (t.get("settlements") or 0)
    pending = sum(p.pending for p in programs)
    return render(request, "web/home_admin.html", {"programs": programs, "pending": pending})


# --- Contributions ------------------------------------------------------------------------


@login_required
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
    return render(request, "web/contribution_list.html", {"form": form, "page": _page(request, qs)})


def _current_cards(programs):
    """Each program with the rate card in effect today (or None)."""
    today = clock.today()
    cards = {}
    for card in RateCard.objects.filter(program__in=programs, effective_from__lte=today).order_by(
        "program_id", "effective_from"
    ):
        cards[card.program_id] = card  # the latest wins
    return [(program, cards.get(program.pk)) for program in programs]


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
    card = RateCard.objects.filter(program=program).in_effect_on(day)
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
            preview["estimate_minor"] = value_with(card, kind=kind, hours=parsed, severity=None)
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
}


def _timeline(contribution):
    events = AuditEvent.objects.filter(
        object_type="contribution", object_id=str(contribution.pk)
    ).select_related("actor")
    timeline = []
    for event in events:
        data = event.data or {}
        timeline.append(
            {
                "at": event.at,
                "label": ACTION_LABELS.get(event.action, event.action),
                "actor": event.actor,
                "why": data.get("reason") or data.get("note") or "",
                "value_minor": data.get("value_minor"),
                "changes": data.get("changes") or {},
            }
        )
    return timeline


def _detail_context(request, contribution, **forms_given):
    context = {"c": contribution, "timeline": _timeline(contribution)}
    user = request.user
    if user.is_admin and contribution.artist_id != user.pk:
        if contribution.status == ContributionStatus.SUBMITTED:
            context["accept_form"] = forms_given.get("accept_form") or forms.AcceptForm(
                contribution=contribution
            )
            context["reject_form"] = forms_given.get("reject_form") or forms.ReasonForm(
                prefix="reject"
            )
        elif contribution.status == ContributionStatus.ACCEPTED:
            context["reverse_form"] = forms_given.get("reverse_form") or forms.ReasonForm(
                prefix="reverse"
            )
    context["can_withdraw"] = (
        contribution.artist_id == user.pk and contribution.status == ContributionStatus.SUBMITTED
    )
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
    return redirect(_next_url(request, reverse("contribution_detail", args=[pk])))


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
                reviewer=request.user,
                note=form.cleaned_data["note"],
                hours=form.cleaned_data.get("hours"),
                severity=form.cleaned_data.get("severity"),
            )
        except DomainError as exc:
            error = exc
            _show_domain_error(request, form, exc)
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
    return redirect(_next_url(request, reverse("contribution_detail", args=[pk])))


def _show_domain_error(request, form, error: DomainError) -> None:
    """Input errors go beside their field; refusals of the action itself (reviewing one's own
    work, a contribution no longer in the right state) are a message above the page."""
    if isinstance(error, ValidationFailed):
        forms.apply_domain_error(form, error)
    else:
        messages.error(request, error.message)


def _reason_action(request, pk, *, service, prefix, done):
    contribution = _visible_contribution(request, pk)
    form = forms.ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            service(
                contribution=contribution,
                reviewer=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            _show_domain_error(request, form, error)
        else:
            messages.success(request, f"{done} “{contribution.title}”.")
            return redirect(_next_url(request, reverse("contribution_detail", args=[pk])))
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


# --- Review queue -------------------------------------------------------------------------


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
    return render(request, "web/review_queue.html", {"form": form, "page": _page(request, qs, 50)})


@admin_required
@require_POST
def review_bulk_accept(request):
    """Accept every selected contribution, or none of them if any one cannot be accepted."""
    form = forms.BulkAcceptForm(request.POST)
    back = _next_url(request, reverse("review_queue"))
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("ids", ["Nothing selected."])))
        return redirect(back)
    ids = set(form.cleaned_data["ids"])
    chosen = list(Contribution.objects.pending().filter(pk__in=ids).order_by("id"))
    if len(chosen) != len(ids):
        messages.error(
            request,
            "Some selected contributions are no longer waiting for review; nothing was accepted.",
        )
        return redirect(back)
    try:
        with transaction.atomic():
            for contribution in chosen:
                try:
                    services.accept_contribution(contribution=contribution, reviewer=request.user)
                except DomainError as error:
                    error.message = f"“{contribution.title}”: {error.message}"
                    raise
    except DomainError as error:
        messages.error(request, f"{error.message} Nothing was accepted.")
    else:
        messages.success(request, f"Accepted {len(chosen)} contribution(s).")
    return redirect(back)


# --- Statements ---------------------------------------------------------------------------


def _statement_for(request, program_id):
    """(program, artist, filter form, statement or None, members for an admin's picker)."""
    user = request.user
    program = get_object_or_404(Program.objects.visible_to(user), pk=program_id)
    members = None
    if user.is_admin:
        members = Membership.objects.filter(program=program).select_related("artist")
        artist_id = request.GET.get("artist")
        artist = None
        if artist_id:
            artist_pk = parse_id(artist_id)
            membership = members.filter(artist_id=artist_pk).first() if artist_pk else None
            if membership is None:
                raise Http404("No such member.")
            artist = membership.artist
    else:
        artist = user
    form = forms.StatementFilterForm(
        {k: v for k, v in request.GET.items() if k in ("date_from", "date_to")}
    )
    statement = None
    if artist is not None and form.is_valid():
        statement = queries.statement(
            artist=artist,
            program=program,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    return program, artist, form, statement, members


@login_required
def statement(request, program_id):
    program, artist, form, statement, members = _statement_for(request, program_id)
    return render(
        request,
        "web/statement.html",
        {
            "program": program,
            "artist": artist,
            "form": form,
            "statement": statement,
            "printable": statement_context(statement) if statement else None,
            "members": members,
            "query": request.GET.urlencode(),
        },
    )


@login_required
def statement_csv_view(request, program_id):
    statement = _statement_for(request, program_id)[3]
    if statement is None:  # no artist chosen or a bad period: the page says which
        return _back_to_statement(request, program_id)
    return downloads.statement_csv_download(statement)


@login_required
def statement_pdf_view(request, program_id):
    """The statement as PDF, from the same template as the page (ledger.exports.pdf)."""
    statement = _statement_for(request, program_id)[3]
    if statement is None:  # no artist chosen or a bad period: the page says which
        return _back_to_statement(request, program_id)
    return downloads.statement_pdf_download(statement)


def _back_to_statement(request, program_id):
    query = request.GET.urlencode()
    return redirect(reverse("statement", args=[program_id]) + (f"?{query}" if query else ""))


@admin_required
def journal_export(request, pk, fmt):
    """The program's journal for hledger or beancount, streamed."""
    if fmt not in downloads.JOURNAL_FORMATS:
        raise Http404("Unknown journal format.")
    return downloads.journal_download(get_object_or_404(Program, pk=pk), fmt)


@admin_required
def outstanding_export(request, pk):
    return downloads.outstanding_download(get_object_or_404(Program, pk=pk))


@admin_required
def payout_batch_export(request):
    """One CSV row per artist for the payouts of a program on a day, for payment tools."""
    form = forms.PayoutBatchForm(request.GET or None)
    if not form.is_valid():
        return render(request, "web/payout_batch.html", {"form": form})
    return downloads.payout_batch_download(
        form.cleaned_data["program"], form.cleaned_data["paid_on"]
    )


# --- Payouts ------------------------------------------------------------------------------


@admin_required
def payouts(request):
    programs = Program.objects.order_by("name")
    program_id = parse_id(request.GET.get("program"))
    memberships = Membership.objects.order_by("program__name", "artist__username")
    if program_id:
        memberships = memberships.filter(program_id=program_id)
    owed_only = bool(request.GET.get("owed"))
    if owed_only:
        memberships = memberships.filter(
            valued_minor__gt=F("grants_minor") + F("settlements_minor")
        )
    rows = _page(request, queries.balances(memberships), 50)
    recent = Payout.objects.select_related("program", "artist")
    if program_id:
        recent = recent.filter(program_id=program_id)
    recent = recent[:30]
    return render(
        request,
        "web/payouts.html",
        {
            "rows": rows,
            "recent": recent,
            "programs": programs,
            "program_id": str(program_id or ""),  # compared with the options' string ids
            "owed_only": owed_only,
        },
    )


@admin_required
def payout_new(request):
    if request.method == "POST":
        form = forms.PayoutForm(request.POST)
    else:
        initial = {"kind": request.GET.get("kind") or PayoutKind.SETTLEMENT}
        for key in ("program", "artist"):
            if parse_id(request.GET.get(key)):
                initial[key] = parse_id(request.GET[key])
        form = forms.PayoutForm(initial=initial)
    if request.method != "POST" or "edit" in request.POST or not form.is_valid():
        return render(request, "web/payout_form.html", {"form": form})

    data = form.cleaned_data
    kwargs = {
        "actor": request.user,
        "artist": data["artist"],
        "program": data["program"],
        "amount_minor": data["amount_minor"],
        "kind": data["kind"],
        "paid_on": data["paid_on"],
        "method": data["method"],
        "reference": data["reference"],
        "note": data["note"],
    }
    try:
        if "confirm" in request.POST:
            payout = services.record_payout(**kwargs)
        else:
            _check_with_service(services.record_payout, **kwargs)
    except InsufficientBalance:
        owed = Membership.objects.get(program=data["program"], artist=data["artist"])
        cur = data["program"].currency
        form.add_error(
            "amount",
            f"A settlement of {display(data['amount_minor'], cur)} exceeds the "
            f"{display(max(owed.outstanding_minor, 0), cur)} outstanding. Nothing was recorded; "
            "settle at most what is outstanding, or pay a grant.",
        )
        return render(request, "web/payout_form.html", {"form": form})
    except DomainError as error:
        forms.apply_domain_error(form, error, default_field="amount")
        return render(request, "web/payout_form.html", {"form": form})
    if "confirm" in request.POST:
        messages.success(
            request,
            f"Recorded a {payout.get_kind_display().lower()} to {payout.artist} "
            f"in {payout.program}.",
        )
        return redirect(reverse("payouts") + f"?program={payout.program_id}")
    membership = Membership.objects.get(program=data["program"], artist=data["artist"])
    return render(
        request,
        "web/payout_confirm.html",
        {
            "form": form,
            "data": data,
            "membership": membership,
            "currency": data["program"].currency,
        },
    )


@admin_required
def payout_void(request, pk):
    payout = get_object_or_404(Payout.objects.select_related("program", "artist"), pk=pk)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.void_payout(
                payout=payout, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            forms.apply_domain_error(form, error, default_field="reason")
        else:
            messages.success(request, f"Voided payout #{payout.pk}.")
            return redirect(reverse("payouts") + f"?program={payout.program_id}")
    return render(
        request,
        "web/payout_void.html",
        {"payout": payout, "form": form, "is_void": payout.status == PayoutStatus.VOID},
    )


# --- Programs -----------------------------------------------------------------------------


@login_required
def program_list(request):
    programs = Program.objects.visible_to(request.user).order_by("name")
    return render(request, "web/program_list.html", {"programs": programs})


@admin_required
def program_new(request):
    form = forms.ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = services.create_program(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            forms.apply_domain_error(form, error)
        else:
            messages.success(request, f"Created {program}. Add a rate card and members next.")
            return redirect("program_detail", pk=program.pk)
    return render(request, "web/program_new.html", {"form": form})


def _program_context(request, program, *, card_form=None, enroll_form=None):
    context = {
        "program": program,
        "cards": program.rate_cards.order_by("-effective_from"),
        "today": clock.today(),
        "current_card": RateCard.objects.filter(program=program).in_effect_on(clock.today()),
    }
    if request.user.is_admin:
        context["members"] = queries.balances(
            Membership.objects.filter(program=program).order_by("artist__username")
        )
        context["card_form"] = card_form or forms.RateCardForm(program=program)
        context["enroll_form"] = enroll_form or forms.EnrollForm(program=program)
    return context


@login_required
def program_detail(request, pk):
    program = get_object_or_404(Program.objects.visible_to(request.user), pk=pk)
    return render(request, "web/program_detail.html", _program_context(request, program))


@admin_required
@require_POST
def rate_card_new(request, pk):
    program = get_object_or_404(Program, pk=pk)
    form = forms.RateCardForm(request.POST, program=program)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_rate_card(
                actor=request.user,
                program=program,
                effective_from=data["effective_from"],
                hourly_rate_minor=data["hourly_rate_minor"],
                bounties={s: data[f"bounty_{s}_minor"] for s in Severity.values},
            )
        except DomainError as error:
            forms.apply_domain_error(form, error)
        else:
            messages.success(request, f"Published a rate card from {data['effective_from']}.")
            return redirect("program_detail", pk=program.pk)
    context = _program_context(request, program, card_form=form)
    return render(request, "web/program_detail.html", context)


@admin_required
@require_POST
def member_new(request, pk):
    program = get_object_or_404(Program, pk=pk)
    form = forms.EnrollForm(request.POST, program=program)
    if form.is_valid():
        try:
            services.enroll_artist(
                actor=request.user, program=program, artist=form.cleaned_data["artist"]
            )
        except DomainError as error:
            forms.apply_domain_error(form, error)
        else:
            messages.success(request, f"Enrolled {form.cleaned_data['artist']}.")
            return redirect("program_detail", pk=program.pk)
    context = _program_context(request, program, enroll_form=form)
    return render(request, "web/program_detail.html", context)


# --- Public transparency ------------------------------------------------------------------


def transparency_index(request):
    programs = Program.objects.public().order_by("name")
    return render(request, "web/transparency_index.html", {"programs": programs})


def transparency(request, pk):
    program = get_object_or_404(Program, pk=pk)
    user = request.user
    insider = user.is_authenticated and (
        user.is_admin or Membership.objects.filter(program=program, artist=user).exists()
    )
    if not program.public and not insider:
        raise Http404("No such program.")
    report = queries.program_report(program)
    minimum = settings.LEDGER_REPORT_MIN_CONTRIBUTORS
    withheld = not insider and report.contributors < minimum
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


# --- API tokens ---------------------------------------------------------------------------


_NEW_TOKEN_KEY = "new_api_token"  # noqa: S105 (a session key name, not a secret)


@login_required
def api_tokens(request):
    """List the user's API tokens and create one.

    Post/redirect/get, so a reload cannot create a second token: the new secret rides in the
    session to the next page view only, where it is shown once and dropped.
    """
    form = forms.TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, secret = tokens.issue_token(user=request.user, name=form.cleaned_data["name"])
        request.session[_NEW_TOKEN_KEY] = {"id": token.pk, "secret": secret}
        return redirect("api_tokens")
    created = secret = None
    shown = request.session.pop(_NEW_TOKEN_KEY, None)
    if shown is not None:
        created = next((t for t in tokens.list_tokens(request.user) if t.pk == shown["id"]), None)
        secret = shown["secret"] if created else None
    response = render(
        request,
        "web/tokens.html",
        {
            "form": form if request.method == "POST" else forms.TokenForm(),
            "tokens": tokens.list_tokens(request.user),
            "created": created,
            "secret": secret,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, pk):
    if not tokens.revoke_token(request.user, pk):
        raise Http404("No such token.")
    messages.success(request, "Token revoked; it stopped working at once.")
    return redirect("api_tokens")
