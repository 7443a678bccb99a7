"""Invitations: a manager invites by email; the emailed single-use link joins the program.

The link's secret exists only in the message (and the invitee's hands): the database keeps its
SHA-256, so neither a leaked database nor a reader of the API can join through it.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from accounts.models import User
from accounts.tokens import hash_token
from ledger import access, clock, mail
from ledger.errors import InvalidTransition, InvitationUnusable, ValidationFailed
from ledger.models import (
    Invitation,
    InvitationStatus,
    Membership,
    NotificationKind,
    Program,
    StaffRole,
)
from ledger.notifications import notify

from . import audit
from .common import is_blank
from .programs import enroll_artist, grant_role
from .users import create_user

# What the invitee joins as, in a sentence ("join Aurora as an auditor").
ROLE_NAMES = {None: "a member (artist)"} | {
    r.value: ("an " if r.value[0] in "aeiou" else "a ") + r.value for r in access.ROLES
}

UNUSABLE = {
    "unknown": "This invitation link is not valid. Ask the program's manager for a new one.",
    "expired": "This invitation has expired. Ask the program's manager for a new one.",
    "revoked": "This invitation was withdrawn by the program's manager.",
    "accepted": "This invitation has already been used.",
}


def _clean_email(email) -> str:
    email = User.objects.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed("Enter a valid email address.", field="email") from None
    if len(email) > 254:
        raise ValidationFailed("At most 254 characters.", field="email")
    return email


def invite(*, actor, program: Program, email: str, display_name: str = "", role=None) -> Invitation:
    """Invite `email` to `program` (a manager's act): as a member when `role` is None, else as
    staff in `role`. The message with the single-use link `/invitations/<secret>/` is sent
    after the transaction commits; the secret is on the returned invitation (`.secret`) for
    this call only, never stored."""
    access.require(actor, access.Action.MANAGE, program.pk)
    email = _clean_email(email)
    display_name = (display_name or "").strip()
    if is_blank(display_name):
        display_name = ""
    if len(display_name) > 200:
        raise ValidationFailed("At most 200 characters.", field="display_name")
    role = role or None
    if role is not None and role not in access.ROLES:
        raise ValidationFailed(
            "Role must be manager, reviewer, treasurer or auditor, or none to join as a member.",
            field="role",
        )
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            program=program,
            email=email,
            display_name=display_name,
            role=role,
            token_hash=hash_token(secret),
            expires_at=now + dt.timedelta(days=settings.LEDGER_INVITATION_DAYS),
            created_at=now,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="invitation.create",
            obj=invitation,
            program=program,
            email=email,
            role=role,
            expires_at=invitation.expires_at,
        )
        subject, body = mail.render(
            "mail/invitation.txt",
            {
                "invitation": invitation,
                "program": program,
                "inviter": actor,
                "role": ROLE_NAMES[role],
                "link": mail.site_url(reverse("invitation_accept", args=[secret])),
            },
        )
        mail.send(to=email, subject=subject, body=body)
    invitation.secret = secret
    return invitation


def revoke_invitation(*, actor, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation (a manager's act): its link stops working. Accepted,
    revoked or expired invitations cannot be revoked (`InvalidTransition`)."""
    access.require(actor, access.Action.MANAGE, invitation.program_id)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.usable:
            raise InvalidTransition(
                f"This invitation is {invitation.shown_status}; only a pending one can be revoked."
            )
        invitation.status = InvitationStatus.REVOKED
        invitation.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="invitation.revoke",
            obj=invitation,
            program=invitation.program_id,
            email=invitation.email,
        )
    return invitation


def find_invitation(secret: str) -> Invitation:
    """The usable invitation whose link carries `secret` (a read: the page shows it before
    anyone joins); `InvitationUnusable` naming why when the link does not work."""
    invitation = _by_secret(Invitation.objects.select_related("program", "created_by"), secret)
    _require_usable(invitation)
    return invitation


def _by_secret(queryset, secret) -> Invitation | None:
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        return None
    return queryset.filter(token_hash=hash_token(secret)).first()


def _require_usable(invitation: Invitation | None) -> None:
    if invitation is None:
        raise InvitationUnusable(UNUSABLE["unknown"], reason="unknown")
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationUnusable(UNUSABLE[invitation.status], reason=invitation.status)
    if invitation.expired:
        raise InvitationUnusable(UNUSABLE["expired"], reason="expired")


def accept_invitation(*, token: str, user) -> Invitation:
    """`user` joins the program through the link carrying `token`: enrolled as a member
    (already one is fine) or granted the invitation's staff role (already held is fine).

    Under a lock on the invitation, so a link is used once however many arrive at once; an
    unknown, expired, revoked or used link is refused (`InvitationUnusable`) with nothing
    written.
    """
    if user is None or not user.is_authenticated:
        raise ValidationFailed("Sign in or create an account first.", field=None)
    with transaction.atomic():
        invitation = _by_secret(
            Invitation.objects.select_for_update().select_related("program"), token
        )
        _require_usable(invitation)
        program = invitation.program
        if invitation.role is None:
            if not Membership.objects.filter(program=program, artist=user).exists():
                enroll_artist(actor=None, program=program, artist=user)
        elif not StaffRole.objects.filter(
            program=program, user=user, role=invitation.role
        ).exists():
            grant_role(actor=None, program=program, user=user, role=invitation.role)
        invitation.status = InvitationStatus.ACCEPTED
        invitation.accepted_by = user
        invitation.accepted_at = clock.now()
        invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
        audit.record(
            actor=user,
            action="invitation.accept",
            obj=invitation,
            program=program,
            user=user.pk,
            role=invitation.role,
        )
        if invitation.created_by_id is not None:  # sent by a person, not by the system
            notify(
                user=invitation.created_by,
                kind=NotificationKind.INVITATION_ACCEPTED,
                message=(
                    f"{user} accepted your invitation and joined {program.name} as "
                    f"{ROLE_NAMES[invitation.role]}."
                ),
                subject=invitation,
                program=program,
                actor=user,
            )
    access.forget(user)
    return invitation


def accept_invitation_as_new_user(
    *, token: str, username: str, password: str, email: str = "", display_name: str = ""
):
    """Create an account (the password already passed the validators) and join through the
    link, in one transaction: a link that does not work creates no account. Returns
    (user, invitation)."""
    with transaction.atomic():
        invitation = _by_secret(Invitation.objects.select_for_update(), token)
        _require_usable(invitation)
        user = create_user(
            actor=None,
            username=username,
            email=email or invitation.email,
            display_name=display_name or invitation.display_name,
            password=password,
        )
        invitation = accept_invitation(token=token, user=user)
    return user, invitation
