"""Contributions: feedback hours and bug reports an artist logs for review."""

import datetime as dt

from django.conf import settings
from django.db import models

from ledger import clock

from .programs import Program, RateCard, VisibleQuerySet


class ContributionKind(models.TextChoices):
    FEEDBACK = "feedback", "Feedback"
    BUG_REPORT = "bug_report", "Bug report"


# One TextChoices per vocabulary, alike in shape only: each set's values are stored and
# spelt out again in its check constraint, so each is declared where its model is.
class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ContributionStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REVERSED = "reversed", "Reversed"


# Allowed moves of the state machine: submitted → accepted | rejected | withdrawn,
# accepted → reversed. Everything else is an InvalidTransition.
TRANSITIONS = {
    ContributionStatus.SUBMITTED: {
        ContributionStatus.ACCEPTED,
        ContributionStatus.REJECTED,
        ContributionStatus.WITHDRAWN,
    },
    ContributionStatus.ACCEPTED: {ContributionStatus.REVERSED},
}
# Moves only an upheld dispute makes: rejected work accepted after all. No reviewer's own
# decision takes it (`can_move_to(..., through_dispute=True)`, services.disputes).
DISPUTE_TRANSITIONS = {
    ContributionStatus.REJECTED: {ContributionStatus.ACCEPTED},
}


# Overdue for review: still submitted after its `review_due_on`, i.e. `today` (UTC,
# `ledger.clock.today()`) is later than the due date. Computed from dates, never stored. One
# rule, rendered three ways side by side (tests/ledger/test_deadlines.py compares them): for a
# row in Python (`is_overdue`), as a filter (`ContributionQuerySet.overdue`), and as SQL for
# the plain-SQL API list (`OVERDUE_SQL`, `queries.contribution_rows`).
def is_overdue(status: str, review_due_on: dt.date | None, today: dt.date) -> bool:
    """Whether work in `status`, due for review on `review_due_on`, is overdue on `today`."""
    return (
        status == ContributionStatus.SUBMITTED
        and review_due_on is not None
        and today > review_due_on
    )


def _overdue_q(today: dt.date) -> models.Q:
    return models.Q(status=ContributionStatus.SUBMITTED, review_due_on__lt=today)


# The same for a contribution aliased `c`; one parameter: today. A NULL due date is not
# overdue, so `NOT (OVERDUE_SQL)` needs the IS NOT NULL to keep such rows.
OVERDUE_SQL = "(c.status = 'submitted' AND c.review_due_on IS NOT NULL AND c.review_due_on < %s)"


class ContributionQuerySet(VisibleQuerySet):
    def pending(self):
        return self.filter(status=ContributionStatus.SUBMITTED)

    def accepted(self):
        """Accepted and not reversed: the work that counts."""
        return self.filter(status=ContributionStatus.ACCEPTED)

    def overdue(self, today: dt.date | None = None):
        """Work still submitted after its review due date (`is_overdue`), as of `today`
        (default `clock.today()`): read through the partial index contribution_review_due."""
        return self.filter(_overdue_q(today or clock.today()))

    def not_overdue(self, today: dt.date | None = None):
        """Everything `overdue` leaves out."""
        return self.exclude(_overdue_q(today or clock.today()))


class Contribution(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="contributions")
    artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions"
    )
    kind = models.CharField(max_length=12, choices=ContributionKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10_000, blank=True)
    occurred_on = models.DateField()
    hours = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    # NULL, not "", for feedback: the check constraint ties severity to the kind.
    severity = models.CharField(  # noqa: DJ001
        max_length=10, choices=Severity.choices, null=True, blank=True
    )
    reference = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=ContributionStatus.choices, default=ContributionStatus.SUBMITTED
    )
    # What the work would be worth if accepted as submitted (minor units); kept current by the
    # services when a rate card is added, so pending value is a plain SUM.
    estimate_minor = models.BigIntegerField(default=0)
    # The value frozen at acceptance (minor units), with the card that gave it.
    value_minor = models.BigIntegerField(null=True, blank=True)
    rate_card = models.ForeignKey(
        RateCard, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(default=clock.now, editable=False)
    # The UTC date of submission plus the program's `review_within_days`: kept by the services
    # (set at submission, moved when the program's deadline changes), so the review queue and
    # `?overdue=true` are an index range, not date arithmetic per row.
    review_due_on = models.DateField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(max_length=10_000, blank=True)
    accepted_on = models.DateField(null=True, blank=True)  # the acceptance entry's date
    closed_at = models.DateTimeField(null=True, blank=True)  # withdrawn or reversed
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.TextField(max_length=10_000, blank=True)

    objects = ContributionQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["program", "artist", "status"], name="contribution_member_status"),
            models.Index(fields=["status", "program"], name="contribution_queue"),
            models.Index(
                fields=["program", "review_due_on"],
                condition=models.Q(status="submitted"),
                name="contribution_review_due",
            ),
            # A bulk import skips a row whose reference the artist already has in the program
            # (services/imports.py): one probe per row, whatever the program's size.
            models.Index(
                fields=["program", "artist", "reference"],
                condition=~models.Q(reference=""),
                name="contribution_reference",
            ),
            # The default listing order: a page is an index scan, not a sort of every row.
            models.Index(fields=["-submitted_at", "-id"], name="contribution_newest"),
            # The report (ledger.queries): accepted work per artist in settling order, read
            # from the index alone (PostgreSQL; SQLite ignores INCLUDE and reads the rows).
            models.Index(
                fields=["program", "artist", "reviewed_at", "id"],
                include=["value_minor", "accepted_on", "kind", "hours"],
                condition=models.Q(status="accepted"),
                name="contribution_accepted_fifo",
            ),
            # Accepted work of value 0 posts no entry, so the report reads it live: rare rows,
            # found without reading the rest.
            models.Index(
                fields=["program", "artist"],
                include=["kind", "hours"],
                condition=models.Q(status="accepted")
                & (models.Q(value_minor=0) | models.Q(value_minor__isnull=True)),
                name="contribution_accepted_unposted",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="feedback", hours__gt=0, hours__lte=24, severity__isnull=True)
                    | models.Q(kind="bug_report", hours__isnull=True, severity__isnull=False)
                ),
                name="contribution_kind_fields",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["submitted", "accepted", "rejected", "withdrawn", "reversed"]
                ),
                name="contribution_status_valid",
            ),
            models.CheckConstraint(
                # Accepted work carries its value, card and dates: the report's
                # first-in first-out matching reads accepted_on (ledger.queries).
                condition=~models.Q(status__in=["accepted", "reversed"])
                | models.Q(
                    value_minor__gte=0,
                    rate_card__isnull=False,
                    accepted_on__isnull=False,
                    reviewed_at__isnull=False,
                ),
                name="contribution_accepted_has_value",
            ),
            models.CheckConstraint(
                condition=models.Q(estimate_minor__gte=0), name="contribution_estimate_nonneg"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_overdue(self) -> bool:
        """Still waiting for review after its due date, today (`is_overdue`)."""
        return is_overdue(self.status, self.review_due_on, clock.today())

    def can_move_to(self, status: str, *, through_dispute: bool = False) -> bool:
        """Whether the state machine allows the move: a review's (`TRANSITIONS`) or, with
        `through_dispute`, only an upheld dispute's (`DISPUTE_TRANSITIONS`)."""
        moves = DISPUTE_TRANSITIONS if through_dispute else TRANSITIONS
        return status in moves.get(self.status, set())
