"""Payouts: money actually paid to an artist, as a grant or a settlement."""

from django.conf import settings
from django.db import models

from ledger import clock

from .programs import Program, VisibleQuerySet


class PayoutKind(models.TextChoices):
    GRANT = "grant", "Grant"
    SETTLEMENT = "settlement", "Settlement"


class PayoutStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"  # awaiting a second treasurer; nothing posted
    PAID = "paid", "Paid"
    DECLINED = "declined", "Declined"  # a proposal refused; nothing was ever posted
    VOID = "void", "Void"


class Acknowledgement(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"  # the artist says the money arrived


class PayoutQuerySet(VisibleQuerySet):
    def paid(self):
        return self.filter(status=PayoutStatus.PAID)

    def proposed(self):
        return self.filter(status=PayoutStatus.PROPOSED)


class Payout(models.Model):
    """A grant (may exceed what is owed) or a settlement (may not).

    paid → void; at or above the program's approval threshold: proposed → paid | declined.
    """

    # Declared here as Contribution declares its own: each key names its own reverse accessor
    # (program.payouts, artist.payouts), and an abstract base would hide the columns.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="payouts")
    artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    kind = models.CharField(max_length=10, choices=PayoutKind.choices)
    amount_minor = models.BigIntegerField()  # minor units of the program currency, > 0
    paid_on = models.DateField()
    method = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    note = models.TextField(max_length=10_000, blank=True)
    status = models.CharField(max_length=8, choices=PayoutStatus.choices, default=PayoutStatus.PAID)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.TextField(max_length=10_000, blank=True)
    # Set when the payout needed a second treasurer: who proposed it, who approved or
    # declined it, when and why.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(max_length=10_000, blank=True)
    # The artist's word on a paid payout: null until they confirm receipt. A payout they say
    # never arrived is a dispute (`Dispute`), not a value here.
    acknowledged = models.CharField(  # noqa: DJ001 (null: not yet acknowledged)
        max_length=10, choices=Acknowledgement.choices, null=True, blank=True
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = PayoutQuerySet.as_manager()

    class Meta:
        ordering = ["-paid_on", "-id"]
        indexes = [
            models.Index(fields=["program", "artist", "status"], name="payout_member"),
            models.Index(fields=["-paid_on", "-id"], name="payout_newest"),  # listing order
            # The report (ledger.queries): paid payouts per artist in settling order, from the
            # index alone on PostgreSQL.
            models.Index(
                fields=["program", "artist", "paid_on", "id"],
                include=["amount_minor"],
                condition=models.Q(status="paid"),
                name="payout_paid_fifo",
            ),
            # The report's `paid_confirmed` (ledger.queries): from the index alone on
            # PostgreSQL, however many payouts the program has.
            models.Index(
                fields=["program"],
                include=["amount_minor"],
                condition=models.Q(status="paid", acknowledged="confirmed"),
                name="payout_confirmed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="payout_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["grant", "settlement"]), name="payout_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PayoutStatus.values), name="payout_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(acknowledged__isnull=True, acknowledged_at__isnull=True)
                | models.Q(acknowledged__in=Acknowledgement.values, acknowledged_at__isnull=False),
                name="payout_acknowledged_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"
