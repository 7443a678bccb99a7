"""Notifications: what happened that a person should know of, in their inbox (and by email,
when their preference allows; `ledger.notifications`)."""

from django.conf import settings
from django.db import models

from ledger import clock

from .programs import Program


class NotificationKind(models.TextChoices):
    CONTRIBUTION_REVIEWED = "contribution_reviewed", "Contribution reviewed"
    PAYOUT_RECORDED = "payout_recorded", "Payout recorded"
    PAYOUT_NEEDS_APPROVAL = "payout_needs_approval", "Payout needs approval"
    DISPUTE_OPENED = "dispute_opened", "Dispute opened"
    DISPUTE_DECIDED = "dispute_decided", "Dispute decided"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"


class NotificationQuerySet(models.QuerySet):
    def of(self, user):
        """`user`'s own notifications: nobody reads another's inbox, operators included."""
        return self.filter(user_id=user.pk)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message in one person's inbox, written in the transaction of the change it reports.

    `subject_type`/`subject_id` name the object it is about (a contribution, payout, dispute
    or invitation) for a link; the row never grants sight of it: the object's page still asks
    `ledger.access`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    message = models.CharField(max_length=500)
    subject_type = models.CharField(max_length=20)
    subject_id = models.CharField(max_length=40)
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox"),
            # The unread count in every page's navigation: the unread rows alone.
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=NotificationKind.values), name="notification_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.kind} for {self.user_id}"
