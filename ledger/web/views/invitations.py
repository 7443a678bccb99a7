"""Invitations: a program's list and invite form (its managers), and the page behind the
emailed link where the invitee signs in or creates a login, and joins."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import second_factor
from ledger import access, services
from ledger.errors import DomainError, InvitationUnusable
from ledger.models import Invitation
from ledger.services.invitations import ROLE_NAMES

from .. import forms
from .common import page_of, show_domain_error, staff_program
from .second_factor import begin_code_step


@login_required
def invitations(request, program_id):
    """The program's invitations, newest first; a manager also invites and revokes here."""
    program = staff_program(request, program_id, access.Action.READ)
    can_manage = access.can(request.user, access.Action.MANAGE, program.pk)
    form = forms.InvitationForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(access.REFUSAL[access.Action.MANAGE])
        if form.is_valid():
            try:
                invitation = services.invite(
                    actor=request.user,
                    program=program,
                    email=form.cleaned_data["email"],
                    display_name=form.cleaned_data["display_name"],
                    role=form.cleaned_data["role"] or None,
                )
            except DomainError as error:
                show_domain_error(request, form, error)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("invitations", program_id=program.pk)
    rows = (
        Invitation.objects.visible_to(request.user)
        .filter(program=program)
        .select_related("accepted_by")
    )
    return render(
        request,
        "web/invitations.html",
        {
            "program": program,
            "form": form,
            "can_manage": can_manage,
            "page": page_of(request, rows.order_by("-created_at", "-id")),
        },
    )


@login_required
@require_POST
def invitation_revoke(request, program_id, invitation_id):
    program = staff_program(request, program_id, access.Action.MANAGE)
    invitation = get_object_or_404(
        Invitation.objects.visible_to(request.user), program=program, pk=invitation_id
    )
    try:
        services.revoke_invitation(actor=request.user, invitation=invitation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Revoked the invitation to {invitation.email}.")
    return redirect("invitations", program_id=program.pk)


# Which form of the accept page was posted (a hidden field of each).
JOIN, SIGN_IN, SIGN_UP = "join", "sign_in", "sign_up"


def invitation_accept(request, secret):
    """The emailed link: shows the program and role; a signed-in visitor joins with one
    button, anyone else signs in or creates a login first. A link that does not work is a
    page saying why (404 unknown, 410 expired, revoked or used) and writes nothing."""
    try:
        invitation = services.find_invitation(secret)
    except InvitationUnusable as error:
        return _unusable(request, error)
    step = request.POST.get("step") if request.method == "POST" else None
    signed_in = request.user.is_authenticated
    sign_in_form = forms.JoinSignInForm(request, prefix="signin")
    sign_up_form = forms.JoinSignUpForm(
        prefix="new",
        initial={"email": invitation.email, "display_name": invitation.display_name},
    )
    try:
        if signed_in and step == JOIN:
            return _joined(request, services.accept_invitation(token=secret, user=request.user))
        if not signed_in and step == SIGN_IN:
            sign_in_form = forms.JoinSignInForm(request, data=request.POST, prefix="signin")
            if sign_in_form.is_valid():
                user = sign_in_form.get_user()
                if second_factor.is_enrolled(user):
                    # Signed in only after the code; then back here to join with one button.
                    return begin_code_step(request, user, request.path)
                joined = services.accept_invitation(token=secret, user=user)
                login(request, user)
                return _joined(request, joined)
        if not signed_in and step == SIGN_UP:
            sign_up_form = forms.JoinSignUpForm(request.POST, prefix="new")
            if sign_up_form.is_valid():
                data = sign_up_form.cleaned_data
                user, joined = services.accept_invitation_as_new_user(
                    token=secret,
                    username=data["username"],
                    password=data["password1"],
                    email=data["email"],
                    display_name=data["display_name"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return _joined(request, joined)
    except InvitationUnusable as error:  # used or revoked since the page was shown
        return _unusable(request, error)
    except DomainError as error:
        if step == SIGN_UP:
            show_domain_error(request, sign_up_form, error)
        else:
            messages.error(request, error.message)
    response = render(
        request,
        "web/invitation_accept.html",
        {
            "invitation": invitation,
            "program": invitation.program,
            "role": ROLE_NAMES[invitation.role],
            "sign_in_form": sign_in_form,
            "sign_up_form": sign_up_form,
            "steps": {"join": JOIN, "sign_in": SIGN_IN, "sign_up": SIGN_UP},
        },
    )
    return _private(response)


def _private(response):
    # The address holds the link's secret: kept out of caches and out of Referer headers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _joined(request, invitation):
    as_what = f"as {invitation.role}" if invitation.role else "as a member"
    messages.success(request, f"You joined {invitation.program} {as_what}.")
    return redirect("program_detail", pk=invitation.program_id)


def _unusable(request, error: InvitationUnusable):
    status = 404 if error.reason == "unknown" else 410
    response = render(
        request,
        "web/invitation_unusable.html",
        {"message": error.message, "reason": error.reason},
        status=status,
    )
    return _private(response)
