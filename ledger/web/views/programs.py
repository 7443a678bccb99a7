"""Programs: the list, a new program, a program's page with its rate cards and members, its
staff (roles granted and revoked by a manager) and its settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from ledger import access, clock, queries, routing, services
from ledger.errors import DomainError, ValidationFailed
from ledger.models import (
    Membership,
    Program,
    RateCard,
    Severity,
    StaffRole,
)

from .. import forms
from .common import admin_required, show_domain_error, staff_program

ADD_PROGRAM = "ledger.add_program"
ADD_PROGRAM_REFUSAL = "Creating a program needs the permission to add programs."


@login_required
@routing.replica_reads()
def program_list(request):
    programs = Program.objects.visible_to(request.user).order_by("name")
    return render(
        request,
        "web/program_list.html",
        {"programs": programs, "add_program_refusal": ADD_PROGRAM_REFUSAL},
    )


@login_required
def program_new(request):
    """A new program, for those with the permission to add programs (an operator grants it;
    the creator becomes the program's manager). Anyone else is told why (403), and a forged
    post writes nothing."""
    if not access.has_permission(request.user, ADD_PROGRAM):
        raise PermissionDenied(ADD_PROGRAM_REFUSAL)
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
    """The program page: its rate cards for everyone who sees it; for its staff, its members'
    balances and the manager's forms, or why the user may not use them."""
    user = request.user
    context = {
        "program": program,
        "cards": program.rate_cards.order_by("-effective_from"),
        "today": clock.today(),
        "current_card": RateCard.objects.in_effect(program.pk, clock.today()),
        "staff_here": access.can(user, access.Action.READ, program.pk),
        "can_manage": access.can(request.user, access.Action.MANAGE, program.pk),
    }
    if context["staff_here"]:
        context["members"] = queries.with_pay_deadlines(
            queries.balances(
                Membership.objects.filter(program=program).order_by("artist__username")
            )
        )
        context["reviews_overdue"] = program.contributions.overdue().count()
        context["manage_refused"] = access.refusal(user, access.Action.MANAGE, program.pk)
        if context["manage_refused"] is None:
            context["card_form"] = card_form or forms.RateCardForm(program=program)
            context["enroll_form"] = enroll_form or forms.EnrollForm(program=program, user=user)
    return context


@login_required
def program_detail(request, pk):
    program = get_object_or_404(Program.objects.visible_to(request.user), pk=pk)
    return render(request, "web/program_detail.html", _program_context(request, program))


def _post_program_form(request, pk, form_class, form_key, act, **form_kwargs):
    """A form posted from a program's page. `act(program, cleaned_data)` runs the service and
    returns the message to show; a domain error goes on the form (a refusal of the role, above
    the page), and the page is shown again with the form (as `form_key` of `_program_context`)
    and its errors. `form_kwargs` go to the form besides the program. A program the user does
    not see is a 404."""
    program = get_object_or_404(Program.objects.visible_to(request.user), pk=pk)
    form = form_class(request.POST, program=program, **form_kwargs)
    if form.is_valid():
        try:
            done = act(program, form.cleaned_data)
        except ValidationFailed as error:
            forms.apply_domain_error(form, error)
        except DomainError as error:
            show_domain_error(request, form, error)
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


# --- Staff ----------------------------------------------------------------------------------


@login_required
def program_staff(request, pk):
    """A program's staff: who holds which role, since when and granted by whom. Every staff
    role reads it; a manager grants roles here and revokes them (after a confirmation)."""
    program = staff_program(request, pk)
    user = request.user
    manage_refused = access.refusal(user, access.Action.MANAGE, program.pk)
    form = None
    if manage_refused is None:
        form = forms.StaffGrantForm(request.POST or None, manager=user)
    elif request.method == "POST":
        messages.error(request, manage_refused.message)
    if request.method == "POST" and form is not None and form.is_valid():
        person, role = form.cleaned_data["user"], form.cleaned_data["role"]
        try:
            services.grant_role(actor=user, program=program, user=person, role=role)
        except ValidationFailed as error:
            forms.apply_domain_error(form, error)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, f"{person} is now {role} of {program}.")
            return redirect("program_staff", pk=program.pk)
    roles = (
        StaffRole.objects.filter(program=program)
        .select_related("user", "granted_by")
        .order_by("user__username", "role")
    )
    return render(
        request,
        "web/program_staff.html",
        {"program": program, "roles": roles, "form": form, "manage_refused": manage_refused},
    )


@login_required
def staff_revoke(request, pk, staff_id):
    """Take a role back, after the manager confirms it. The service refuses to remove a
    program's last manager, and says so here; nothing is removed then."""
    program = staff_program(request, pk)
    staff = get_object_or_404(
        StaffRole.objects.select_related("user", "granted_by"), pk=staff_id, program=program
    )
    refused = access.refusal(request.user, access.Action.MANAGE, program.pk)
    if request.method == "POST":
        if refused is not None:
            messages.error(request, refused.message)
        else:
            try:
                services.revoke_role(actor=request.user, staff=staff)
            except StaffRole.DoesNotExist:
                # Revoked meanwhile (another manager, or this one's second click).
                messages.info(request, f"{staff.user} no longer holds this role.")
                return redirect("program_staff", pk=program.pk)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"{staff.user} is no longer {staff.role} of {program}.")
                return redirect("program_staff", pk=program.pk)
    return render(
        request,
        "web/staff_revoke.html",
        {"program": program, "staff": staff, "refused": refused},
    )


# --- Settings -------------------------------------------------------------------------------


@sensitive_post_parameters("payer_iban")  # kept out of error reports
@login_required
def program_settings(request, pk):
    """A manager changes the program's name, description, visibility, status and approval
    threshold; the currency is shown, never changed. Errors beside their fields."""
    program = staff_program(request, pk, access.Action.MANAGE)
    form = forms.ProgramSettingsForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_program(actor=request.user, program=program, **form.changes())
        except ValidationFailed as error:
            forms.apply_domain_error(form, error)
        except DomainError as error:
            show_domain_error(request, form, error)
        else:
            messages.success(request, f"Saved the settings of {form.cleaned_data['name']}.")
            return redirect("program_detail", pk=program.pk)
    return render(request, "web/program_settings.html", {"program": program, "form": form})
