"""Payouts: the list, the pay page (review, then a single-use confirm) and voids."""

from django import forms as django_forms
from django.contrib import messages
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from ledger import queries, services
from ledger.errors import DomainError
from ledger.models import (
    Account,
    Membership,
    Payout,
    PayoutKind,
    PayoutStatus,
    Program,
)
from ledger.money import display
from ledger.params import parse_id

from .. import confirmation, forms
from .common import admin_required, page_of


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
    rows = page_of(request, queries.balances(memberships), 50)
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


def _payout_form(request, form):
    """The pay form, with what the chosen program owes the chosen artist before any amount."""
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
    owed = {**choice, "member": owed_minor is not None, "minor": owed_minor}
    return render(request, "web/payout_form.html", {"form": form, "owed": owed})


@admin_required
def payout_new(request):
    """Record a payment in two steps: review (reads only) and a single-use confirm."""
    if request.method == "POST":
        form = forms.PayoutForm(request.POST)
    else:
        initial = {"kind": request.GET.get("kind") or PayoutKind.SETTLEMENT}
        for key in ("program", "artist"):
            if parse_id(request.GET.get(key)):
                initial[key] = parse_id(request.GET[key])
        form = forms.PayoutForm(initial=initial)
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
            forms.apply_domain_error(form, error, default_field="amount")
            return _payout_form(request, form)
        else:
            what = (
                f"{payout.get_kind_display().lower()} of "
                f"{display(payout.amount_minor, payout.program.currency)} to {payout.artist} "
                f"in {payout.program}"
            )
            if recorded:
                messages.success(request, f"Recorded a {what}.")
            else:
                messages.info(
                    request,
                    f"This payment was already recorded (payout #{payout.pk}, a {what}); "
                    "it was not recorded again.",
                )
            return redirect(reverse("payouts") + f"?program={payout.program_id}")
    try:
        preview = services.preview_payout(actor=request.user, **payout_fields)
    except DomainError as error:
        forms.apply_domain_error(form, error, default_field="amount")
        return _payout_form(request, form)
    return render(
        request,
        "web/payout_confirm.html",
        {
            "form": form,
            "data": data,
            "preview": preview,
            "currency": data["program"].currency,
            "confirmation": confirmation.issue(request.user, data),
        },
    )


@admin_required
def payout_void(request, pk):
    payout = get_object_or_404(
        Payout.objects.visible_to(request.user).select_related("program", "artist"), pk=pk
    )
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
