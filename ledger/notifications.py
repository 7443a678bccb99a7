"""Notifications: the one place an event is told to a person.

`notify` writes the inbox row in the caller's transaction (so a change and its notification
commit or roll back together) and, when the person's preference allows and they have an
address, queues the same message by email through `ledger.mail.send`, which delivers it after
commit from the background worker: a dead mail server never fails or slows the change.
"""

from django.urls import reverse

from ledger import mail
from ledger.models import Notification, NotificationKind

# The page each kind of subject links to, by URL name; its one argument is the subject's id.
SUBJECT_PAGES = {
    "contribution": "contribution_detail",
    "payout": "payout_detail",
    "dispute": "dispute_detail",
    "program": "program_detail",
}


def subject_path(subject_type: str, subject_id) -> str | None:
    """The site path of a notification's subject, or None when it has no page."""
    name = SUBJECT_PAGES.get(subject_type)
    return reverse(name, args=[subject_id]) if name else None


def notify(*, user, kind: NotificationKind, message: str, subject, program=None) -> Notification:
    """Tell `user` (a User) that `message` happened to `subject` (a model instance: a
    contribution, payout, dispute, or a program for events about the program itself).

    Call it inside the service's transaction, after the change it reports. `message` is one
    plain sentence in the reader's terms ("Your bug report “X” was accepted: 40.00 USD"),
    shown in the inbox and used as the email's subject line.
    """
    subject_type = subject._meta.model_name
    notification = Notification.objects.create(
        user=user,
        kind=kind,
        message=message[:500],
        subject_type=subject_type,
        subject_id=str(subject.pk),
        program=program,
    )
    if user.email and user.email_notifications:
        path = subject_path(subject_type, subject.pk)
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
