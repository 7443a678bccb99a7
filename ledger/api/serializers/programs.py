"""Programs, their rate cards and members, and their transparency report."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from ledger import access, banking
from ledger.models import (
    Invitation,
    Membership,
    PayerAccount,
    Program,
    RateCard,
    StaffRole,
)
from ledger.models.invitations import SHOWN_STATUSES
from ledger.models.programs import ProgramStatus
from ledger.money import CURRENCY_CHOICES
from ledger.services.programs import DEADLINE_RANGE

from ..fields import (
    IdRelatedField,
    JSONBooleanField,
    JSONIntegerField,
    MoneyInput,
    MoneyOutput,
    NullableMoneyOutput,
    TextEmailField,
    TextField,
    TotalHoursField,
    VisibleTextField,
)
from .common import TEXT_MAX


class PayerAccountSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True, help_text="The account holder (the debtor).")
    iban = serializers.CharField(
        read_only=True, help_text="Masked: `•••• ` and its last 4 characters."
    )
    bic = serializers.CharField(read_only=True, help_text="Its bank's BIC; empty if none.")


class ProgramSerializer(serializers.ModelSerializer):
    approval_threshold = NullableMoneyOutput(
        minor="approval_threshold_minor",
        currency="currency",
        help_text="Payouts of this amount or more need a second treasurer; null: none do.",
    )
    payer_account = serializers.SerializerMethodField(
        help_text="The account the program pays from (the debtor of its payment files), for "
        "its treasurers and managers; null when none is set or for anyone else."
    )

    @extend_schema_field(PayerAccountSerializer(allow_null=True))
    def get_payer_account(self, program):
        request = self.context.get("request")
        user = request.user if request is not None else None
        if not access.can(user, access.Action.READ_PAYER_ACCOUNT, program.pk):
            return None
        try:
            account = program.payer_account
        except PayerAccount.DoesNotExist:
            return None
        return {"name": account.name, "iban": banking.mask(account.iban), "bic": account.bic}

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "currency",
            "description",
            "public",
            "status",
            "created_at",
            "approval_threshold",
            "review_within_days",
            "pay_within_days",
            "dispute_window_days",
            "auto_accept_overdue",
            "payer_account",
        ]
        read_only_fields = fields


class ProgramUpdateSerializer(serializers.Serializer):
    """A manager's changes to a program's settings (PATCH: every field optional).
    `approval_threshold` is parsed in the program's currency (context `currency`)."""

    name = VisibleTextField(max_length=200, required=False)
    description = TextField(max_length=TEXT_MAX, required=False, allow_blank=True)
    public = JSONBooleanField(required=False)
    status = serializers.ChoiceField(choices=ProgramStatus.choices, required=False)
    approval_threshold = MoneyInput(required=False, allow_null=True)
    review_within_days = JSONIntegerField(
        required=False,
        min_value=DEADLINE_RANGE[0],
        max_value=DEADLINE_RANGE[1],
        help_text="Days after its submission (UTC date) that work is due for review; "
        "the due date of work waiting for review moves with it.",
    )
    pay_within_days = JSONIntegerField(
        required=False,
        min_value=DEADLINE_RANGE[0],
        max_value=DEADLINE_RANGE[1],
        help_text="Days after its acceptance that work is due to be paid.",
    )
    dispute_window_days = JSONIntegerField(
        required=False,
        min_value=DEADLINE_RANGE[0],
        max_value=DEADLINE_RANGE[1],
        help_text="Days after a decision that it may be disputed.",
    )
    auto_accept_overdue = JSONBooleanField(
        required=False,
        help_text="Work still unreviewed after its due date is accepted by the system "
        "(`apply_deadlines`).",
    )
    payer_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=70,
        help_text="The paying account's holder, as the bank knows it (the debtor of payment "
        "files); required while an IBAN is set.",
    )
    payer_iban = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The IBAN the program pays from (checked; spaces and case do not matter). "
        "Empty string: removes the paying account (name, IBAN and BIC).",
    )
    payer_bic = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Its bank's BIC, of the IBAN's country; optional (derived from the IBAN "
        "when known).",
    )
    currency = serializers.CharField(
        required=False, help_text="Never changes: every amount of the program is in it."
    )

    def validate_currency(self, value):
        if value != self.context["currency"]:
            raise serializers.ValidationError("A program's currency never changes.")
        return value

    def validate(self, attrs):
        attrs.pop("currency", None)
        if "approval_threshold" in attrs:
            attrs["approval_threshold_minor"] = attrs.pop("approval_threshold")
        return attrs


class ProgramCreateSerializer(serializers.Serializer):
    name = VisibleTextField(max_length=200)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, help_text="ISO 4217 code.")
    description = TextField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")
    public = JSONBooleanField(required=False, default=False)


class BountiesInputSerializer(serializers.Serializer):
    low = MoneyInput(allow_zero=True)
    medium = MoneyInput(allow_zero=True)
    high = MoneyInput(allow_zero=True)
    critical = MoneyInput(allow_zero=True)


class RateCardCreateSerializer(serializers.Serializer):
    """Amounts in the program's currency (context `currency`), zero allowed."""

    effective_from = serializers.DateField()
    hourly_rate = MoneyInput(allow_zero=True)
    bug_bounties = BountiesInputSerializer()


class BountiesSerializer(serializers.Serializer):
    low = MoneyOutput(minor="bounty_low_minor")
    medium = MoneyOutput(minor="bounty_medium_minor")
    high = MoneyOutput(minor="bounty_high_minor")
    critical = MoneyOutput(minor="bounty_critical_minor")


class RateCardSerializer(serializers.ModelSerializer):
    hourly_rate = MoneyOutput(minor="hourly_rate_minor")
    bug_bounties = BountiesSerializer(source="*", read_only=True)
    # Each resource declares its own wire fields in its contract's order (docs/API.md):
    # declarations alike in shape only.
    currency = serializers.CharField(source="program.currency", read_only=True)

    class Meta:
        model = RateCard
        fields = [
            "id",
            "program",
            "effective_from",
            "hourly_rate",
            "bug_bounties",
            "currency",
            "created_at",
        ]
        read_only_fields = fields


class MemberCreateSerializer(serializers.Serializer):
    # Any active user the caller sees may be enrolled, staff too (their own work is then
    # reviewable by other reviewers only: self-review is refused by the service).
    artist = IdRelatedField(queryset=User.objects.filter(is_active=True))


class StaffSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="user.display_name", read_only=True)
    role = serializers.ChoiceField(choices=[(r.value, r.value) for r in access.ROLES])

    class Meta:
        model = StaffRole
        fields = ["id", "user", "display_name", "role", "granted_at", "granted_by"]
        read_only_fields = fields


class StaffCreateSerializer(serializers.Serializer):
    user = IdRelatedField(queryset=User.objects.filter(is_active=True))
    role = serializers.ChoiceField(choices=[(r.value, r.value) for r in access.ROLES])


class InvitationSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(
        choices=[(r.value, r.value) for r in access.ROLES],
        allow_null=True,
        read_only=True,
        help_text="The staff role the invitee gets; null: joins as a member (artist).",
    )
    status = serializers.ChoiceField(
        choices=[(s, s) for s in SHOWN_STATUSES],
        source="shown_status",
        read_only=True,
        help_text="`expired`: pending, but past `expires_at`; the link no longer works.",
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "display_name",
            "program",
            "role",
            "status",
            "expires_at",
            "created_at",
            "created_by",
            "accepted_by",
            "accepted_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    email = TextEmailField(max_length=254)
    display_name = TextField(max_length=200, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(
        choices=[(r.value, r.value) for r in access.ROLES],
        required=False,
        allow_null=True,
        default=None,
        help_text="A staff role; leave out (or null) to invite a member (artist).",
    )


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["artist", "program", "joined_at"]
        read_only_fields = fields


class ReportSerializer(serializers.Serializer):
    program = serializers.IntegerField()
    currency = serializers.CharField()
    withheld = serializers.BooleanField(
        help_text="True when figures are hidden from this reader (too few contributors)."
    )
    contributors = serializers.IntegerField(allow_null=True)
    feedback_hours = TotalHoursField(allow_null=True, read_only=True)
    bug_reports_accepted = serializers.IntegerField(allow_null=True)
    valued = NullableMoneyOutput(minor="valued", currency="currency")
    paid = NullableMoneyOutput(minor="paid", currency="currency")
    paid_confirmed = NullableMoneyOutput(
        minor="paid_confirmed",
        currency="currency",
        help_text="The part of `paid` whose artists confirmed receiving it (voided payouts "
        "never count).",
    )
    grants = NullableMoneyOutput(minor="grants", currency="currency")
    settlements = NullableMoneyOutput(minor="settlements", currency="currency")
    outstanding = NullableMoneyOutput(minor="outstanding", currency="currency")
    paid_ahead = NullableMoneyOutput(minor="paid_ahead", currency="currency")
    paid_ratio = serializers.CharField(allow_null=True, help_text="paid / valued, 4 decimals.")
    median_days_to_payment = serializers.CharField(allow_null=True, help_text="One decimal.")
    head_hash = serializers.CharField(allow_null=True)
    reviews_overdue = serializers.IntegerField(
        allow_null=True, help_text="Work still waiting for review after its due date, today."
    )
    overdue_outstanding = NullableMoneyOutput(
        minor="overdue_outstanding",
        currency="currency",
        help_text="The sum of the members' `overdue`: unpaid work accepted more than "
        "`pay_within_days` ago.",
    )
    disputes_open = serializers.IntegerField(
        allow_null=True, help_text="Disputes waiting for a decision."
    )
    disputes_upheld = serializers.IntegerField(allow_null=True)
    disputes_dismissed = serializers.IntegerField(allow_null=True)
