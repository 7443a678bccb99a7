"""A person's own inbox: marking notifications read and the email preference. Only the person
acts on their notifications; nobody else, operators included, reads or marks them."""

from django.db import transaction

from ledger import clock
from ledger.errors import ValidationFailed
from ledger.models import Notification

from . import audit
from .banking import set_bank_details


def mark_read(*, notification: Notification, user) -> Notification:
    """Mark one of `user`'s notifications read (again: no change, same answer)."""
    if notification.user_id != user.pk:
        raise Notification.DoesNotExist  # another's inbox is invisible, not forbidden
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=clock.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, user) -> int:
    """Mark every unread notification of `user` read; the number marked."""
    return Notification.objects.of(user).unread().update(read_at=clock.now())


@transaction.atomic
def set_preferences(
    *, user, email_notifications: bool | None = None, iban: str | None = None, bic=None
) -> None:
    """Change `user`'s preferences given (None: unchanged), with an audit row naming what
    changed; the inbox is always kept. One argument per preference, so a new one is a new
    keyword here and a field of the interfaces' forms."""
    changes = {}
    if email_notifications is not None:
        if not isinstance(email_notifications, bool):
            raise ValidationFailed({"email_notifications": "Must be true or false."})
        if user.email_notifications != email_notifications:
            changes["email_notifications"] = email_notifications
    if changes:
        for name, value in changes.items():
            setattr(user, name, value)
        user.save(update_fields=list(changes))
        audit.record(actor=user, action="user.preferences", obj=user, **changes)
    if iban is not None or bic is not None:
        # Banking details have their own audit row, masked (`services.banking`).
        set_bank_details(actor=user, user=user, iban=iban, bic=bic)
