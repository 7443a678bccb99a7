"""A person's own inbox: marking notifications read and the email preference. Only the person
acts on their notifications; nobody else, operators included, reads or marks them."""

from django.db import transaction

from ledger import clock
from ledger.errors import ValidationFailed
from ledger.models import Notification

from . import audit


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
def set_preferences(*, user, email_notifications: bool) -> None:
    """Change `user`'s email preference (the inbox is always kept), with an audit row."""
    if not isinstance(email_notifications, bool):
        raise ValidationFailed({"email_notifications": "Must be true or false."})
    if user.email_notifications != email_notifications:
        user.email_notifications = email_notifications
        user.save(update_fields=["email_notifications"])
        audit.record(
            actor=user,
            action="user.preferences",
            obj=user,
            email_notifications=email_notifications,
        )
