"""The outbox of mail and the claimed slots of the schedule."""

from django.db import models

from ledger import clock


class MailStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waits for its next attempt (`next_attempt_at`)
    SENDING = "sending", "Sending"  # claimed by a worker until `claimed_until`
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # given up after `LEDGER_MAIL_ATTEMPTS` attempts


class OutboundMailQuerySet(models.QuerySet):
    def due(self, moment):
        """Messages a worker may claim at `moment`: new ones (never tried: at once, whatever
        the clocks of the web server and the worker say), pending ones whose next attempt has
        come, and ones whose claim lapsed (the worker that held it died or hung)."""
        return self.filter(
            models.Q(status=MailStatus.PENDING, attempts=0)
            | models.Q(status=MailStatus.PENDING, next_attempt_at__lte=moment)
            | models.Q(status=MailStatus.SENDING, claimed_until__lt=moment)
        )

    def stranded(self, moment):
        """Messages that were due by `moment` already (queued or retried by then, or claimed
        by a worker whose claim had lapsed by then): a task for them should have run."""
        return self.filter(
            models.Q(status=MailStatus.PENDING, next_attempt_at__lte=moment)
            | models.Q(status=MailStatus.SENDING, claimed_until__lt=moment)
        )


class OutboundMail(models.Model):
    """One message to send, written by `ledger.mail.send` in the transaction of the change it
    reports: a rolled-back change leaves no row, a committed one a row that stays until the
    message is sent or given up.

    The body may hold a single-use link (an invitation, a password reset): it is erased once
    the message is sent or given up, so the link's secret is in the database only while its
    message waits.
    """

    recipient = models.CharField(max_length=254)
    subject = models.TextField()
    body = models.TextField(blank=True)
    status = models.CharField(max_length=7, choices=MailStatus.choices, default=MailStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    # A worker's claim: until then no other worker takes the message (a lease, so a killed
    # worker's message is taken again once it lapses).
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundMailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound mail"
        verbose_name_plural = "outbound mail"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MailStatus.values), name="outbox_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {self.recipient} ({self.status})"


class ScheduledRun(models.Model):
    """A slot of a scheduled job (`LEDGER_SCHEDULE`), claimed by the worker that enqueued it.

    Unique per job and slot: however many workers tick, each slot is enqueued once.
    """

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()  # the start of the interval this run stands for
    claimed_at = models.DateTimeField(default=clock.now)
    claimed_by = models.CharField(max_length=200, blank=True)  # host and process id

    class Meta:
        ordering = ["-slot", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_once"),
        ]

    def __str__(self):
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M:%S}"
