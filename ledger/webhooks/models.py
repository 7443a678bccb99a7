"""Webhook subscriptions, their deliveries, and the log of every attempt."""

from django.conf import settings
from django.db import models

from ledger import clock
from ledger.crypto import EncryptedTextField

# The events a subscription may ask for, in the contract's order (docs/API.md).
EVENT_TYPES = (
    "contribution.submitted",
    "contribution.accepted",
    "contribution.rejected",
    "contribution.reversed",
    "payout.proposed",
    "payout.paid",
    "payout.voided",
    "dispute.opened",
    "dispute.decided",
)


class WebhookSubscription(models.Model):
    """A receiver of a program's events. The signing secret is kept encrypted (it must be
    read back to sign) and is shown once, in the answer that creates the subscription."""

    program = models.ForeignKey(
        "ledger.Program", on_delete=models.PROTECT, related_name="webhook_subscriptions"
    )
    url = models.CharField(max_length=2000)  # checked by `guard.check_url`, not a form field
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    secret = EncryptedTextField()
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["program", "active"], name="webhook_sub_program")]

    def __str__(self):
        return f"{self.url} ({', '.join(self.events)})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waits for its next attempt (`next_attempt_at`)
    SENDING = "sending", "Sending"  # claimed by a worker until `claimed_until` (internal)
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # every attempt of the schedule failed


UNDELIVERED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
# What a client sees of a delivery's status: `sending` is a worker's claim, shown as pending.
SHOWN_DELIVERY_STATUSES = [s.value for s in DeliveryStatus if s != DeliveryStatus.SENDING]


class WebhookDelivery(models.Model):
    """One event for one subscription. `webhook_id` and `body` are fixed when the event
    happens, so every retry sends the same bytes under the same id (receivers deduplicate on
    it). A subscription's deliveries go out in `id` order: the oldest undelivered one is the
    head of the line, and the others wait behind it."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=40)
    webhook_id = models.CharField(max_length=40, unique=True)
    body = models.TextField()
    status = models.CharField(
        max_length=9, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # The value of `attempts` when the retry schedule last started (0, or the count at a
    # redelivery): a redelivered event gets the whole schedule again.
    schedule_from = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=clock.now)
    # A worker's claim (a lease: a killed worker's delivery is taken again once it lapses).
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["subscription", "status", "id"], name="webhook_line"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(event_type__in=EVENT_TYPES),
                name="webhook_delivery_event_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(schedule_from__lte=models.F("attempts")),
                name="webhook_delivery_schedule_within_attempts",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliveryStatus.SENDING)
                | models.Q(claimed_until__isnull=False),
                name="webhook_delivery_sending_is_claimed",
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.webhook_id} ({self.status})"

    @property
    def shown_status(self) -> str:
        """The status a client sees: a worker's claim (`sending`) is still `pending`."""
        return DeliveryStatus.PENDING if self.status == DeliveryStatus.SENDING else self.status

    @property
    def finished(self) -> bool:
        return self.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)

    @property
    def shown_next_attempt_at(self):
        """When it is tried next; None once succeeded or failed."""
        return None if self.finished else self.next_attempt_at


class WebhookAttempt(models.Model):
    """One attempt to deliver: what the receiver answered (`status_code`), or why there was
    no answer (`error`), and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(default=clock.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status_code__isnull=False) | ~models.Q(error=""),
                name="webhook_attempt_has_outcome",
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
