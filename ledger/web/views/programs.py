"""Programs: the list, a new program, a program's page with its rate cards and members."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ledger import access, clock, queries, services
from ledger.errors import DomainError
from ledger.models import (
    Membership,
    Program,
    RateCard,
    Severity,
)

from .. import forms
from .common import admin_required


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
        "current_card": RateCard.objects.in_effect(program.pk, clock.today()),
        "can_manage": access.can(request.user, access.Action.MANAGE, program.pk),
    }
    if access.is_staff(request.user):
        context["members"] = queries.balances(
            Membership.objects.filter(program=program).order_by("artist__username")
        )
        context["card_form"] = card_form or forms.RateCardForm(program=program)
        context["enroll_form"] = enroll_form or forms.EnrollForm(program=program, user=request.user)
    return context


@login_required
def program_detail(request, pk):
    program = get_object_or_404(Program.objects.visible_to(request.user), pk=pk)
    return render(request, "web/program_detail.html", _program_context(request, program))


def _post_program_form(request, pk, form_class, form_key, act, **form_kwargs):
    """A form posted from a program's page. `act(program, cleaned_data)` runs the service and
    returns the message to show; a domain error goes on the form, and the page is shown again
    with the form (as `form_key` of `_program_context`) and its errors. `form_kwargs` go to
    the form besides the program."""
    program = get_object_or_404(Program, pk=pk)
    form = form_class(request.POST, program=program, **form_kwargs)
    if form.is_valid():
        try:
            done = act(program, form.cleaned_data)
        except DomainError as error:
            forms.apply_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("program_detail", pk=program.pk)
    context = _program_context(request, program, **{form_key: form})
    return render(request, "web/program_detail.html", context)


@admin_required
@require_POST
def rate_card_new(request, pk):
    def publish(program, data):
        services.add_rate_card(
            actor=request.user,
            program=program,
            effective_from=data["effective_from"],
            hourly_rate_minor=data["hourly_rate_minor"],
            bounties={s: data[f"bounty_{s}_minor"] for s in Severity.values},
        )
        return f"Published a rate card from {data['effective_from']}."

    return _post_program_form(request, pk, forms.RateCardForm, "card_form", publish)


@admin_required
@require_POST
def member_new(request, pk):
    def enroll(program, data):
        services.enroll_artist(actor=request.user, program=program, artist=data["artist"])
        return f"Enrolled {data['artist']}."

    return _post_program_form(
        request, pk, forms.EnrollForm, "enroll_form", enroll, user=request.user
    )
