"""Programs, their published rate cards, and who belongs to them."""

import bisect
from dataclasses import dataclass

import pgtrigger
from django.conf import settings
from django.db import connection, models

from ledger import access, clock
from ledger.crypto import EncryptedTextField
from ledger.money import CURRENCY_CHOICES, value_of_hours


class ProgramStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class VisibleQuerySet(models.QuerySet):
    """Rows about an artist in a program, each reader seeing those of its scope
    (`access.scope_of`): staff every row of their programs, an artist the rows that name it,
    anyone else none."""

    def visible_to(self, user):
        """The rows `user` sees."""
        return self.filter(access.scope_of(user).q())


class ProgramQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The programs `user` is staff of or belongs to (every one for an operator)."""
        scope = access.scope_of(user)
        if scope.everything:
            return self
        condition = models.Q(pk__in=sorted(scope.programs))
        if scope.artist_id is not None:
            # A subquery, not a join: a join on memberships would repeat a program per member.
            condition |= models.Q(
                pk__in=Membership.objects.filter(artist_id=scope.artist_id).values("program_id")
            )
        return self.filter(condition)

    def public(self):
        return self.filter(public=True)


class Program(models.Model):
    """An early-access program. All its money is in one currency (ISO 4217)."""

    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    description = models.TextField(max_length=10_000, blank=True)
    public = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.ACTIVE
    )
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    # Payouts of this many minor units or more are proposed and need a second treasurer's
    # approval before they are posted; null: no payout needs one.
    approval_threshold_minor = models.BigIntegerField(null=True, blank=True)
    # Deadlines, in days (1–365): work is due for review this long after its submission
    # (UTC date), accepted work is due for payment this long after its acceptance, and a
    # decision may be disputed this long after it was made.
    review_within_days = models.PositiveSmallIntegerField(default=14)
    pay_within_days = models.PositiveSmallIntegerField(default=30)
    dispute_window_days = models.PositiveSmallIntegerField(default=30)
    # Work still unreviewed after its review deadline is accepted by the system
    # (`apply_deadlines`), so silence counts as acceptance, never as rejection.
    auto_accept_overdue = models.BooleanField(default=False)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="program_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(approval_threshold_minor__isnull=True)
                | models.Q(approval_threshold_minor__gt=0),
                name="program_threshold_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(review_within_days__gte=1, review_within_days__lte=365)
                & models.Q(pay_within_days__gte=1, pay_within_days__lte=365)
                & models.Q(dispute_window_days__gte=1, dispute_window_days__lte=365),
                name="program_deadlines_in_range",
            ),
        ]

    def __str__(self):
        return self.name

    def needs_approval(self, amount_minor: int) -> bool:
        """Whether a payout of `amount_minor` needs a second treasurer's approval."""
        threshold = self.approval_threshold_minor
        return threshold is not None and amount_minor >= threshold


class PayerAccount(models.Model):
    """The account a program pays its artists from: the debtor of its payment files.

    A row of its own, so no read of a program (most requests read one) carries ciphertext;
    the IBAN is encrypted at rest (`ledger.crypto`) and shown masked (`ledger.banking.mask`),
    to the program's treasurers and managers only (`access.sees_payer_account`). The BIC
    names a bank, not an account, and is kept plain."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, primary_key=True, related_name="payer_account"
    )
    name = models.CharField(max_length=70)  # the longest debtor name a pain.001 carries
    iban = EncryptedTextField()
    bic = models.CharField(max_length=11, blank=True)

    def __str__(self):
        return f"Payer account of program {self.program_id}"


class RateCardQuerySet(models.QuerySet):
    def in_effect(self, program_id: int, day):
        """The card of the program in effect on `day`: the latest `effective_from` not after
        it, or None. The one home of that rule, for valuing and for every page that shows a
        card.

        Plain SQL: acceptance runs it every time, and the ORM's compile of the same query was
        a tenth of an acceptance (docs/PERFORMANCE.md). The card's other fields (created_at,
        created_by) load on use.
        """
        with connection.cursor() as cursor:
            cursor.execute(_CARD_IN_EFFECT, [program_id, connection.ops.adapt_datefield_value(day)])
            row = cursor.fetchone()
        return None if row is None else self.model.from_db(connection.alias, CARD_COLUMNS, row)

    def timeline(self, program_id: int):
        """`in_effect` for many days at once (a bulk import's rows): the program's cards read
        in one query, and a function of a day giving the same card `in_effect` would (the
        latest `effective_from` not after it), or None."""
        cards = list(self.filter(program_id=program_id).order_by("effective_from"))
        starts = [card.effective_from for card in cards]

        def card_on(day):
            at = bisect.bisect_right(starts, day)
            return cards[at - 1] if at else None

        return card_on


# What valuing needs, in the model's field order (as `from_db` needs).
CARD_COLUMNS = [
    "id",
    "program_id",
    "effective_from",
    "hourly_rate_minor",
    "bounty_low_minor",
    "bounty_medium_minor",
    "bounty_high_minor",
    "bounty_critical_minor",
]
_CARD_IN_EFFECT = (
    f"SELECT {', '.join(CARD_COLUMNS)} FROM ledger_ratecard "  # noqa: S608 (constant SQL)  # nosec B608
    "WHERE program_id = %s AND effective_from <= %s ORDER BY effective_from DESC LIMIT 1"
)


class RateCard(models.Model):
    """What a program pays: per hour of feedback and per accepted bug by severity.

    Immutable once published (a PostgreSQL trigger refuses UPDATE/DELETE); a later
    `effective_from` supersedes it. Amounts are integer minor units of the program currency.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="rate_cards")
    effective_from = models.DateField()
    hourly_rate_minor = models.BigIntegerField()  # minor units per hour
    bounty_low_minor = models.BigIntegerField()  # minor units per accepted bug
    bounty_medium_minor = models.BigIntegerField()
    bounty_high_minor = models.BigIntegerField()
    bounty_critical_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    objects = RateCardQuerySet.as_manager()

    class Meta:
        ordering = ["program_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "effective_from"], name="ratecard_one_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(hourly_rate_minor__gte=0)
                & models.Q(bounty_low_minor__gte=0)
                & models.Q(bounty_medium_minor__gte=0)
                & models.Q(bounty_high_minor__gte=0)
                & models.Q(bounty_critical_minor__gte=0),
                name="ratecard_amounts_nonnegative",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="ratecard_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self):
        return f"{self.program} from {self.effective_from}"

    def bounty_minor(self, severity: str) -> int:
        return getattr(self, f"bounty_{severity}_minor")

    def value_of(self, *, kind: str, hours=None, severity: str | None = None) -> int:
        """Minor units this card pays for the work: hours × the hourly rate (ROUND_HALF_EVEN,
        once) for feedback, the severity's bounty for a bug report. A read, so the acceptance
        service and the pages' rate preview share it."""
        if kind == "feedback":  # ContributionKind.FEEDBACK, whose module imports this one
            return value_of_hours(hours, self.hourly_rate_minor)
        return self.bounty_minor(severity)


@dataclass(frozen=True)
class Totals:
    """Money valued and paid, in minor units: the one definition of `paid` and `outstanding`,
    for one membership (`Membership.totals`), a row of them or a whole program's sums."""

    valued: int  # accepted work, net of reversals
    grants: int  # grants paid, net of voids
    settlements: int  # settlements paid, net of voids

    @property
    def paid(self) -> int:
        return self.grants + self.settlements

    @property
    def outstanding(self) -> int:
        """Positive: owed to the artist; negative: paid ahead of valued work."""
        return self.valued - self.paid


class MembershipQuerySet(VisibleQuerySet):
    pass


class Membership(models.Model):
    """An artist's enrolment in a program, with running totals kept by the services.

    The totals are integer minor units, updated in the same transaction as the ledger entry
    that moves them, so one artist's balance is read in O(1); `verify_ledger` recomputes them.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="memberships")
    artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    joined_at = models.DateTimeField(default=clock.now, editable=False)
    valued_minor = models.BigIntegerField(default=0)  # accepted work, net of reversals
    grants_minor = models.BigIntegerField(default=0)  # grants paid, net of voids
    settlements_minor = models.BigIntegerField(default=0)  # settlements paid, net of voids

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["program_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "artist"], name="membership_unique"),
        ]

    def __str__(self):
        return f"{self.artist} in {self.program}"

    @property
    def totals(self) -> "Totals":
        return Totals(self.valued_minor, self.grants_minor, self.settlements_minor)

    @property
    def paid_minor(self) -> int:
        return self.totals.paid

    @property
    def outstanding_minor(self) -> int:
        return self.totals.outstanding


class StaffRoleQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The staff rows of the programs `user` is staff of (`access.scope_of`)."""
        scope = access.scope_of(user)
        if scope.everything:
            return self
        return self.filter(program_id__in=sorted(scope.programs))


class StaffRole(models.Model):
    """One role (`access.Role`) a user holds in one program; revoking deletes the row, and
    both are in the audit trail."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="staff_roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(
        max_length=10, choices=[(r.value, r.value.title()) for r in access.ROLES]
    )
    granted_at = models.DateTimeField(default=clock.now, editable=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = StaffRoleQuerySet.as_manager()

    class Meta:
        ordering = ["program_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "user", "role"], name="staffrole_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in access.ROLES]),
                name="staffrole_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["user", "program"], name="staffrole_user")]

    def __str__(self):
        return f"{self.user} {self.role} of {self.program}"
