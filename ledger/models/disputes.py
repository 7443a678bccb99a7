"""Disputes: an artist's objection to a decision about its work or pay, decided by someone
other than the person whose decision is disputed."""

from django.conf import settings
from django.db import models

from ledger import clock

from .contributions import Contribution
from .payouts import Payout
from .programs import Program, VisibleQuerySet


class DisputeSubject(models.TextChoices):
    CONTRIBUTION = "contribution", "Contribution"
    PAYOUT = "payout", "Payout"


class DisputeClaim(models.TextChoices):
    REJECTION = "rejection", "The work was wrongly rejected"  # subject: a rejected contribution
    VALUATION = "valuation", "The work was undervalued"  # subject: an accepted contribution
    NOT_RECEIVED = "not_received", "The payment never arrived"  # subject: a paid payout


# The claims each kind of subject may carry.
CLAIMS_OF = {
    DisputeSubject.CONTRIBUTION: {DisputeClaim.REJECTION, DisputeClaim.VALUATION},
    DisputeSubject.PAYOUT: {DisputeClaim.NOT_RECEIVED},
}


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    UPHELD = "upheld", "Upheld"
    DISMISSED = "dismissed", "Dismissed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class DisputeQuerySet(VisibleQuerySet):
    def open(self):
        return self.filter(status=DisputeStatus.OPEN)


class Dispute(models.Model):
    """open → upheld | dismissed | withdrawn; nothing moves after that.

    Exactly one of `contribution` and `payout` is set, as `subject_type` says; at most one
    dispute per subject is open at a time (a partial unique index).
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="disputes")
    artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes"
    )
    subject_type = models.CharField(max_length=12, choices=DisputeSubject.choices)
    contribution = models.ForeignKey(
        Contribution, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    payout = models.ForeignKey(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    claim = models.CharField(max_length=12, choices=DisputeClaim.choices)
    statement = models.TextField(max_length=10_000)
    evidence_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    opened_at = models.DateTimeField(default=clock.now, editable=False)
    # Who decided (uphold, dismiss) or, for a withdrawal, the artist; and when.
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(max_length=10_000, blank=True)
    # What an upheld dispute changed, in words ("accepted, valued 40.00", "adjusted by
    # +25.00", "payout voided"); empty otherwise.
    outcome = models.CharField(max_length=300, blank=True)

    objects = DisputeQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["program", "status"], name="dispute_queue"),
            models.Index(fields=["artist", "program"], name="dispute_artist"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    subject_type="contribution",
                    contribution__isnull=False,
                    payout__isnull=True,
                    claim__in=["rejection", "valuation"],
                )
                | models.Q(
                    subject_type="payout",
                    payout__isnull=False,
                    contribution__isnull=True,
                    claim="not_received",
                ),
                name="dispute_subject_fits_claim",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DisputeStatus.values), name="dispute_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", decided_at__isnull=True)
                | (~models.Q(status="open") & models.Q(decided_at__isnull=False)),
                name="dispute_decided_when_closed",
            ),
            models.UniqueConstraint(
                fields=["contribution"],
                condition=models.Q(status="open", contribution__isnull=False),
                name="dispute_one_open_per_contribution",
            ),
            models.UniqueConstraint(
                fields=["payout"],
                condition=models.Q(status="open", payout__isnull=False),
                name="dispute_one_open_per_payout",
            ),
        ]

    def __str__(self):
        return f"Dispute #{self.pk} ({self.claim})"

    @property
    def subject(self):
        return (
            self.contribution if self.subject_type == DisputeSubject.CONTRIBUTION else self.payout
        )
