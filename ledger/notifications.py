"""Notifications: the one place an event is told to a person.

`notify` writes the inbox row in the caller's transaction (so a change and its notification
commit or roll back together) and, when the person's preference allows and they have an
address, queues the same message by email through `ledger.mail.send`, which delivers it after
commit from the background worker: a dead mail server never fails or slows the change.
"""

import contextlib
import contextvars

from django.db import connection
from django.urls import reverse

from ledger import clock, mail
from ledger.models import Notification, NotificationKind

# The page each kind of subject links to, by URL name; its one argument is the subject's id.
SUBJECT_PAGES = {
    "contribution": "contribution_detail",
    "payout": "payout_detail",
    "dispute": "dispute_detail",
    "program": "program_detail",
}
# Subjects whose page is their program's (by URL name; its one argument is the program's id).
PROGRAM_PAGES = {"invitation": "invitations"}
# What a notification may be about (`Notification.subject_type`: the subject's model name).
SUBJECT_TYPES = (*SUBJECT_PAGES, *PROGRAM_PAGES)

# The recipient's columns `notify` reads (and `__str__` shows in the mail's greeting), in the
# user model's field order: a service that reads the recipient in a statement of its own (the
# review lock reads the artist with the work) reads these, so telling them costs no query.
RECIPIENT_COLUMNS = ("id", "username", "email", "display_name", "email_notifications")


# Set while history is loaded in bulk (`without_email`): rows are written, nothing is mailed.
_WITHOUT_EMAIL = contextvars.ContextVar("ledger_notifications_without_email", default=False)


@contextlib.contextmanager
def without_email():
    """Within this block notifications go to the inbox only, never by email: for loading
    history (the demo seed replays months of events that nobody should be mailed about)."""
    token = _WITHOUT_EMAIL.set(True)
    try:
        yield
    finally:
        _WITHOUT_EMAIL.reset(token)


def subject_path(subject_type: str, subject_id, program_id=None) -> str | None:
    """The site path of a notification's subject, or None when it has no page."""
    name = SUBJECT_PAGES.get(subject_type)
    if name:
        return reverse(name, args=[subject_id])
    name = PROGRAM_PAGES.get(subject_type)
    return reverse(name, args=[program_id]) if name and program_id else None


def notify(
    *, user, kind: NotificationKind, message: str, subject, program=None, actor=None
) -> Notification | None:
    """Tell `user` (a User) that `message` happened to `subject` (a model instance: a
    contribution, payout, dispute, invitation, or a program for events about the program
    itself).

    Call it inside the service's transaction, after the change it reports. `message` is one
    plain sentence in the reader's terms ("Your bug report “X” was accepted: 40.00 USD"),
    shown in the inbox and used as the email's subject line. `actor`, who made the change: a
    person is never told of their own action (None then, nothing written or sent).

    Reads only the `RECIPIENT_COLUMNS` of `user`; writes one row in one statement.
    """
    if actor is not None and actor.pk == user.pk:
        return None
    subject_type = subject._meta.model_name
    notification = Notification(
        user=user,
        kind=kind,
        message=message[:500],
        subject_type=subject_type,
        subject_id=str(subject.pk),
        program_id=getattr(program, "pk", program),
        created_at=clock.now(),
    )
    _insert(notification)
    if user.email and user.email_notifications and not _WITHOUT_EMAIL.get():
        path = subject_path(subject_type, subject.pk, notification.program_id)
        subject_line, body = mail.render(
            "mail/notification.txt",
            {
                "user": user,
                "message": message,
                "link": mail.site_url(path) if path else None,
                "inbox": mail.site_url(reverse("notifications")),
                "preferences": mail.site_url(reverse("notification_preferences")),
            },
        )
        mail.send(to=user.email, subject=subject_line, body=body)
    return notification


def _insert(notification: Notification) -> None:
    """Insert the row in plain SQL, as `audit.record` writes its own: every acceptance and
    payout now tells its artist, and the ORM's insert cost more Python than the statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_NOTIFICATION,
            [
                notification.user_id,
                notification.kind,
                notification.message,
                notification.subject_type,
                notification.subject_id,
                notification.program_id,
                connection.ops.adapt_datetimefield_value(notification.created_at),
            ],
        )
        (notification.pk,) = cursor.fetchone()
    notification._state.adding, notification._state.db = False, connection.alias


_INSERT_NOTIFICATION = (
    "INSERT INTO ledger_notification (user_id, kind, message, subject_type, subject_id, "
    "program_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
