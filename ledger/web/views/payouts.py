"""Payouts: the list, the pay page (review, then a single-use confirm), a payout's page, voids,
and the proposals a second treasurer approves or declines."""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ledger import access, queries, routing, services
from ledger.errors import DomainError, InsufficientBalance, SeparationOfDuties, ValidationFailed
from ledger.models import (
    Account,
    Membership,
    Payout,
    PayoutKind,
    PayoutStatus,
)
from ledger.money import display
from ledger.params import parse_id

from .. import confirmation, forms
from .common import (
    admin_required,
    next_url,
    page_of,
    role_required,
    show_domain_error,
    staff_programs,
)
from .disputes import dispute_offer, subject_disputes

TREASURERS_ONLY = "Only a treasurer of a program may record payments or decide proposals."


@admin_required
@routing.replica_reads()
def payouts(request):
    """Balances and recent payments in the programs whose books the user reads."""
    user = request.user
    programs = staff_programs(user)
    program_id = parse_id(request.GET.get("program"))
    readable = access.programs_where(user, access.Action.READ)
    memberships = Membership.objects.order_by("program__name", "artist__username")
    recent = Payout.objects.select_related("program", "artist")
    if readable is not None:
        memberships = memberships.filter(program_id__in=sorted(readable))
        recent = recent.filter(program_id__in=sorted(readable))
    if program_id:
        memberships = memberships.filter(program_id=program_id)
        recent = recent.filter(program_id=program_id)
    owed_only = bool(request.GET.get("owed"))
    if owed_only:
        memberships = memberships.filter(
            valued_minor__gt=F("grants_minor") + F("settlements_minor")
        )
    rows = page_of(request, queries.balances(memberships), 50)
    rows.object_list = queries.with_pay_deadlines(rows.object_list)  # one query for the page
    return render(
        request,
        "web/payouts.html",
        {
            "rows": rows,
            "recent": recent.select_related("approved_by", "declined_by")[:30],
            "programs": programs,
            "program_id": str(program_id or ""),  # compared with the options' string ids
            "owed_only": owed_only,
        },
    )


def _pay_form(request, data=None, **kwargs):
    return forms.PayoutForm(
        data,
        user=request.user,
        programs=staff_programs(request.user, access.Action.PAY),
        **kwargs,
    )


def _payout_form(request, form):
    """The pay form, with what the chosen program owes the chosen artist before any amount,
    or why the user may not pay that artist there (paying oneself)."""
    choice = {}
    for name in ("program", "artist"):
        try:
            choice[name] = form.fields[name].clean(form[name].value())
        except django_forms.ValidationError:
            return render(request, "web/payout_form.html", {"form": form, "owed": None})
    try:
        owed_minor = queries.payable_balance_minor(choice["program"], choice["artist"])
    except Account.DoesNotExist:
        owed_minor = None
    owed = {
        **choice,
        "member": owed_minor is not None,
        "minor": owed_minor,
        "refused": access.refusal(
            request.user,
            access.Action.PAY,
            choice["program"].pk,
            artist_id=choice["artist"].pk,
        ),
    }
    return render(request, "web/payout_form.html", {"form": form, "owed": owed})


def _pay_error(form, error: DomainError) -> None:
    """A refused payment's error beside the field it concerns: paying oneself is about the
    artist chosen; any other refusal of the role above the form; the rest by their field."""
    if isinstance(error, SeparationOfDuties):
        form.add_error("artist", error.message)
    elif not isinstance(error, ValidationFailed) and error.field is None:
        form.add_error(None, error.message)
    else:
        forms.apply_domain_error(form, error, default_field="amount")


def _recorded_message(request, payout, recorded: bool) -> None:
    what = (
        f"{payout.get_kind_display().lower()} of "
        f"{display(payout.amount_minor, payout.program.currency)} to {payout.artist} "
        f"in {payout.program}"
    )
    if not recorded:
        messages.info(
            request,
            f"This payment was already recorded (payout #{payout.pk}, a {what}); "
            "it was not recorded again.",
        )
    elif payout.status == PayoutStatus.PROPOSED:
        messages.success(
            request,
            f"Proposed — waiting for a second treasurer: a {what}. "
            "Nothing is paid until another treasurer approves it.",
        )
    else:
        messages.success(request, f"Recorded a {what}.")


@role_required(access.Action.PAY, TREASURERS_ONLY)
def payout_new(request):
    """Record a payment in two steps: review (reads only) and a single-use confirm. At or
    above the program's approval threshold the payment is proposed, for a second treasurer."""
    if request.method == "POST":
        form = _pay_form(request, request.POST)
    else:
        initial = {"kind": request.GET.get("kind") or PayoutKind.SETTLEMENT}
        for key in ("program", "artist"):
            if parse_id(request.GET.get(key)):
                initial[key] = parse_id(request.GET[key])
        form = _pay_form(request, initial=initial)
    if request.method != "POST" or "edit" in request.POST or not form.is_valid():
        return _payout_form(request, form)

    data = form.cleaned_data
    payout_fields = {
        "artist": data["artist"],
        "program": data["program"],
        "amount_minor": data["amount_minor"],
        "kind": data["kind"],
        "paid_on": data["paid_on"],
    }
    if "confirm" in request.POST:
        try:
            payout, recorded = confirmation.redeem(
                request.user,
                request.POST.get("confirmation", ""),
                data,
                lambda: services.record_payout(
                    actor=request.user,
                    method=data["method"],
                    reference=data["reference"],
                    note=data["note"],
                    **payout_fields,
                ),
            )
        except confirmation.Stale:
            # Nothing confirms these fields: review them again, with a fresh token.
            messages.warning(request, "Review the payment again before you confirm it.")
        except confirmation.InProgress:
            form.add_error(
                None,
                "This payment is still being recorded by another request. "
                "Check the payouts list before you try again.",
            )
            return _payout_form(request, form)
        except DomainError as error:
            _pay_error(form, error)
            return _payout_form(request, form)
        else:
            _recorded_message(request, payout, recorded)
            if payout.status == PayoutStatus.PROPOSED:
                return redirect("payout_proposals")
            return redirect(reverse("payouts") + f"?program={payout.program_id}")
    try:
        preview = services.preview_payout(actor=request.user, **payout_fields)
    except DomainError as error:
        _pay_error(form, error)
        return _payout_form(request, form)
    return render(
        request,
        "web/payout_confirm.html",
        {
            "form": form,
            "data": data,
            "preview": preview,
            "currency": data["program"].currency,
            "proposed": data["program"].needs_approval(data["amount_minor"]),
            "confirmation": confirmation.issue(request.user, data),
        },
    )


def _visible_payout(request, pk):
    """The payout a page names: a 404 unless the user sees it (its staff, or its artist)."""
    return get_object_or_404(
        Payout.objects.visible_to(request.user).select_related(
            "program", "artist", "created_by", "proposed_by", "approved_by", "declined_by",
            "voided_by",
        ),
        pk=pk,
    )  # fmt: skip


def _decision_refusal(user, payout):
    """Why `user` may not approve or decline this proposal (`access.refusal`), or None."""
    return access.refusal(
        user,
        access.Action.PAY,
        payout.program_id,
        artist_id=payout.artist_id,
        proposer_id=payout.proposed_by_id,
    )


@login_required
def payout_detail(request, pk):
    """One payout: its facts, who proposed, approved, declined or voided it, and the actions
    its state allows where the user may take them (or why it may not)."""
    payout = _visible_payout(request, pk)
    user = request.user
    staff_here = access.scope_of(user).staff_of(payout.program_id)
    context = {"p": payout, "staff_here": staff_here}
    if staff_here and payout.status == PayoutStatus.PROPOSED:
        context["decision_refused"] = _decision_refusal(user, payout)
    if staff_here and payout.status == PayoutStatus.PAID:
        context["void_refused"] = access.refusal(user, access.Action.PAY, payout.program_id)
    # The artist's "Confirm I received this": offered where the service would take it.
    context["may_confirm"] = (
        payout.acknowledged is None and services.confirmation_refusal(payout, user) is None
    )
    context["disputes"] = subject_disputes(payout)
    context["dispute_offer"] = dispute_offer(user, payout)
    return render(request, "web/payout_detail.html", context)


@login_required
@require_POST
def payout_confirm(request, pk):
    """The artist confirms receiving a payout (again: nothing changes, no error)."""
    payout = _visible_payout(request, pk)
    already = payout.acknowledged is not None
    try:
        payout = services.confirm_payout(payout=payout, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        what = (
            f"{display(payout.amount_minor, payout.program.currency)} "
            f"{payout.get_kind_display().lower()} in {payout.program}"
        )
        if already:
            messages.info(request, f"You had already confirmed receiving the {what}.")
        else:
            messages.success(request, f"Thank you: you confirmed receiving the {what}.")
    return redirect(next_url(request, reverse("payout_detail", args=[payout.pk])))


@admin_required
def payout_void(request, pk):
    payout = _visible_payout(request, pk)
    refused = access.refusal(request.user, access.Action.PAY, payout.program_id)
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.void_payout(
                payout=payout, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as error:
            forms.apply_domain_error(form, error, default_field="reason")
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, f"Voided payout #{payout.pk}.")
            return redirect(reverse("payouts") + f"?program={payout.program_id}")
    return render(
        request,
        "web/payout_void.html",
        {
            "payout": payout,
            "form": form,
            "is_void": payout.status == PayoutStatus.VOID,
            "refused": refused,
        },
    )


@role_required(access.Action.PAY, TREASURERS_ONLY)
def payout_proposals(request):
    """Proposed payouts in the programs the user pays in, oldest first, for a second
    treasurer to approve or decline; the proposer and the payee see why they may not."""
    pays = access.programs_where(request.user, access.Action.PAY)
    proposals = (
        Payout.objects.proposed()
        .select_related("program", "artist", "proposed_by")
        .order_by("created_at", "id")
    )
    if pays is not None:
        proposals = proposals.filter(program_id__in=sorted(pays))
    return render(request, "web/payout_proposals.html", {"page": page_of(request, proposals, 50)})


def _decided_message(request, payout, decided: bool, done: str) -> None:
    what = (
        f"payout #{payout.pk} ({display(payout.amount_minor, payout.program.currency)} "
        f"to {payout.artist} in {payout.program})"
    )
    if decided:
        messages.success(request, f"{done} {what}.")
    else:
        messages.info(request, f"You already {done.lower()} {what}; nothing was done again.")


@admin_required
@require_POST
def payout_approve(request, pk):
    """Approve a proposal: it is paid and posted now, with the settlement check made then."""
    payout = _visible_payout(request, pk)
    back = next_url(request, reverse("payout_proposals"))
    try:
        payout, decided = confirmation.decide_once(
            request.user,
            payout,
            "approve",
            lambda: services.approve_payout(payout=payout, actor=request.user),
        )
    except confirmation.InProgress:
        messages.error(request, "This approval is still being recorded; check again shortly.")
    except InsufficientBalance as error:
        messages.error(request, f"{error.message} The payout stays proposed.")
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _decided_message(request, payout, decided, "Approved")
    return redirect(back)


@admin_required
def payout_decline(request, pk):
    """Decline a proposal, with the reason (required); nothing was posted and nothing is."""
    payout = _visible_payout(request, pk)
    refused = (
        _decision_refusal(request.user, payout) if payout.status == PayoutStatus.PROPOSED else None
    )
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payout, decided = confirmation.decide_once(
                request.user,
                payout,
                "decline",
                lambda: services.decline_payout(
                    payout=payout, actor=request.user, reason=form.cleaned_data["reason"]
                ),
            )
        except confirmation.InProgress:
            messages.error(request, "This decline is still being recorded; check again shortly.")
        except ValidationFailed as error:
            forms.apply_domain_error(form, error, default_field="reason")
        except DomainError as error:
            messages.error(request, error.message)
        else:
            _decided_message(request, payout, decided, "Declined")
            return redirect(next_url(request, reverse("payout_proposals")))
    return render(
        request,
        "web/payout_decline.html",
        {"payout": payout, "form": form, "refused": refused},
    )
