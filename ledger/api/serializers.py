"""Request and response shapes. Inputs name their writable fields explicitly (no status,
value or artist where those are not the caller's to set); outputs render money as strings.

The big lists (contributions, balances, ledger entries) render rows with `RowSerializer`:
plain code over `.values()` rows instead of DRF's per-field machinery over model instances.
"""

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import F
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from accounts.models import ApiToken, Role, User
from ledger.models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Entry,
    Membership,
    Payout,
    PayoutKind,
    Posting,
    Program,
    RateCard,
    Severity,
    Totals,
)
from ledger.money import CURRENCY_CHOICES, format_hours, format_minor

from .fields import (
    HoursField,
    IdField,
    IdRelatedField,
    LedgerDateField,
    MoneyInput,
    MoneyOutput,
    NullableHoursField,
    NullableMoneyOutput,
    TotalHoursField,
    parse_money,
)

TEXT_MAX = 10_000


# --- Rows -----------------------------------------------------------------------------------


def timestamp(value) -> str | None:
    """A datetime in UTC as DRF's DateTimeField renders it with TIME_ZONE = "UTC": ISO 8601,
    "Z" for the offset. UTC directly, not the current time zone: the contract says UTC, and
    looking the current zone up cost more than the rest of the row."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().removesuffix("+00:00") + "Z"


def iso_date(value) -> str | None:
    return None if value is None else value.isoformat()


# Read-only output of a list and its detail: one row (a dict, from `rows()` or a plain-SQL
# read in ledger.queries) rendered by plain code. Why: over a 50-row page, DRF's field-by-field
# rendering of model instances (a model instance per row and per related row) cost most of the
# request (docs/PERFORMANCE.md). The fields are declared once, as on any ModelSerializer: the
# declaration gives the OpenAPI schema, the columns `rows()` reads and the rendering
# (`_row_renderer`), so a new field is one declaration here and one column in its row source.
# Rows are keyed by field name, money by its minor-units key beside a `currency` key.
# (A comment, not a docstring: drf-spectacular would publish a docstring as the description
# of every schema component built on this class.)
class RowSerializer(serializers.ModelSerializer):
    @classmethod
    def render(cls, row) -> dict:
        """One row as the API shows it (the function `_row_renderer` builds, once per class)."""
        if "_render" not in cls.__dict__:
            cls._render = staticmethod(_row_renderer(cls().fields))
        return cls._render(row)

    @classmethod
    def rows(cls, queryset):
        """The queryset as rows: the declared fields' columns (`.values()`)."""
        columns, expressions = [], {}
        for name, field in cls().fields.items():
            if isinstance(field, MoneyOutput):
                columns.append(field.minor)
                expressions["currency"] = F("program__currency")
            elif isinstance(field, serializers.ListSerializer):
                continue  # nested rows: attached by `load`
            elif "." in field.source:
                expressions[name] = F(field.source.replace(".", "__"))
            else:
                columns.append(name)
        return queryset.values(*columns, **expressions)

    @classmethod
    def load(cls, rows: list) -> list:
        """Complete a page of rows (one more query at most, never one per row)."""
        return rows

    def to_representation(self, row):
        return self.render(row)


def _row_renderer(fields):
    """A function rendering one row as the declared `fields` say: money and hours as exact
    strings, dates ISO, timestamps UTC, nested rows by their own serializer, anything else as
    it is. Generated as one dict display, the fastest Python has for building a dict (a loop
    over per-field closures cost 40% more per page); the source is built from field names and
    constant code only, never from data."""
    helpers = {"format_minor": format_minor, "fmt_hours": format_hours}
    helpers |= {"timestamp": timestamp, "iso_date": iso_date}
    items = []
    for name, field in fields.items():
        key = repr(name)
        if isinstance(field, MoneyOutput):
            minor = repr(field.minor)  # minor units
            value = (
                f"(None if row[{minor}] is None else format_minor(row[{minor}], row['currency']))"
            )
        elif isinstance(field, HoursField):
            value = f"fmt_hours(row[{key}])"
        elif isinstance(field, serializers.DateTimeField):
            value = f"timestamp(row[{key}])"
        elif isinstance(field, serializers.DateField):
            value = f"iso_date(row[{key}])"
        elif isinstance(field, serializers.ListSerializer):
            helpers[f"child_{name}"] = type(field.child).render
            value = f"[child_{name}(item) for item in row[{key}]]"
        else:
            value = f"row[{key}]"
        items.append(f"{key}: {value}")
    source = "def render(row):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<RowSerializer>", "exec"), helpers)  # noqa: S102  # nosec B102 (constant code)
    return helpers["render"]


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


class TokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(read_only=True, help_text="How many tokens were revoked.")


class TokenCreatedSerializer(serializers.ModelSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret; shown only once.")

    class Meta:
        model = ApiToken
        fields = ["id", "token", "name", "created_at", "expires_at"]
        read_only_fields = fields


# --- Artists --------------------------------------------------------------------------------


class ArtistSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "role"]
        read_only_fields = fields


# GET /me/ shows the caller with the same fields an artist is shown with.
MeSerializer = ArtistSerializer


class ArtistCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        validators=[
            UniqueValidator(
                queryset=User.objects.all(),
                lookup="iexact",
                message="This username is taken.",
            )
        ],
    )
    email = serializers.EmailField(max_length=254)
    display_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)

    def validate(self, attrs):
        candidate = User(
            username=attrs["username"],
            email=attrs["email"],
            display_name=attrs.get("display_name", ""),
            role=Role.ARTIST,
        )
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


# --- Programs, rate cards, members ----------------------------------------------------------


class ProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = Program
        fields = ["id", "name", "currency", "description", "public", "status", "created_at"]
        read_only_fields = fields


class ProgramCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, help_text="ISO 4217 code.")
    description = serializers.CharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default=""
    )
    public = serializers.BooleanField(required=False, default=False)


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
    # Any active user may be enrolled, admins too (an admin's own work is then reviewable by
    # other admins only: self-review is refused by the service).
    artist = IdRelatedField(queryset=User.objects.filter(is_active=True))


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
    grants = NullableMoneyOutput(minor="grants", currency="currency")
    settlements = NullableMoneyOutput(minor="settlements", currency="currency")
    outstanding = NullableMoneyOutput(minor="outstanding", currency="currency")
    paid_ahead = NullableMoneyOutput(minor="paid_ahead", currency="currency")
    paid_ratio = serializers.CharField(allow_null=True, help_text="paid / valued, 4 decimals.")
    median_days_to_payment = serializers.CharField(allow_null=True, help_text="One decimal.")
    head_hash = serializers.CharField(allow_null=True)


# --- Contributions --------------------------------------------------------------------------


class ContributionCreateSerializer(serializers.Serializer):
    program = IdRelatedField(queryset=Program.objects.all())
    kind = serializers.ChoiceField(choices=ContributionKind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=TEXT_MAX, required=False, allow_blank=True, default=""
    )
    occurred_on = serializers.DateField()
    hours = HoursField(required=False, allow_null=True, default=None)
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, default=None
    )
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    artist = IdRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # An artist names only programs it can see; anything else reads as "not a member".
            self.fields["program"].queryset = Program.objects.visible_to(request.user)


class ContributionSerializer(RowSerializer):
    hours = NullableHoursField(allow_null=True, read_only=True)
    value = NullableMoneyOutput(minor="value_minor")
    currency = serializers.CharField(source="program.currency", read_only=True)

    class Meta:
        model = Contribution
        fields = [
            "id",
            "program",
            "artist",
            "kind",
            "title",
            "description",
            "occurred_on",
            "hours",
            "severity",
            "reference",
            "status",
            "value",
            "currency",
            "submitted_at",
            "reviewed_at",
            "reviewed_by",
            "review_note",
        ]
        read_only_fields = fields


class AcceptSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")
    hours = HoursField(required=False, allow_null=True, default=None)
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, default=None
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=TEXT_MAX)


class EmptySerializer(serializers.Serializer):
    pass


# --- Payouts --------------------------------------------------------------------------------


class PayoutCreateSerializer(serializers.Serializer):
    artist = IdRelatedField(queryset=User.objects.filter(is_active=True))
    program = IdRelatedField(queryset=Program.objects.all())
    amount = MoneyInput()
    kind = serializers.ChoiceField(choices=PayoutKind.choices)
    paid_on = serializers.DateField(required=False, allow_null=True, default=None)
    method = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        try:
            attrs["amount_minor"] = parse_money(attrs["amount"], attrs["program"].currency)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"amount": exc.detail}) from None
        return attrs


class PayoutSerializer(RowSerializer):
    amount = MoneyOutput(minor="amount_minor")
    currency = serializers.CharField(source="program.currency", read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "artist",
            "program",
            "amount",
            "currency",
            "kind",
            "paid_on",
            "method",
            "reference",
            "note",
            "status",
            "created_at",
            "created_by",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields


# --- Balances and statements ----------------------------------------------------------------


class BalanceSerializer(RowSerializer):
    currency = serializers.CharField(source="program.currency", read_only=True)
    valued = MoneyOutput(minor="valued_minor")
    paid = MoneyOutput(minor="paid_minor")
    grants = MoneyOutput(minor="grants_minor")
    settlements = MoneyOutput(minor="settlements_minor")
    outstanding = MoneyOutput(minor="outstanding_minor")
    pending_value = MoneyOutput(minor="pending_minor")

    class Meta:
        model = Membership
        fields = [
            "artist",
            "program",
            "currency",
            "valued",
            "paid",
            "grants",
            "settlements",
            "outstanding",
            "pending_value",
        ]
        read_only_fields = fields

    @classmethod
    def rows(cls, rows):
        """Already rows: `queries.balance_rows` (plain SQL)."""
        return rows

    @classmethod
    def load(cls, rows):
        """Paid and outstanding from the row's totals (`Totals`, their one definition)."""
        for row in rows:
            totals = Totals(row["valued_minor"], row["grants_minor"], row["settlements_minor"])
            row["paid_minor"], row["outstanding_minor"] = totals.paid, totals.outstanding
        return rows


# The list endpoints' query parameters (filters); ids are positive bigints.


class ContributionFilterSerializer(serializers.Serializer):
    program = IdField(required=False)
    artist = IdField(required=False)
    status = serializers.ChoiceField(choices=ContributionStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=ContributionKind.choices, required=False)


class PayoutFilterSerializer(serializers.Serializer):
    artist = IdField(required=False)
    program = IdField(required=False)
    kind = serializers.ChoiceField(choices=PayoutKind.choices, required=False)


class BalanceFilterSerializer(serializers.Serializer):
    artist = IdField(required=False)
    program = IdField(required=False)


class StatementQuerySerializer(serializers.Serializer):
    program = IdField()
    artist = IdField(required=False)
    # `from` is a Python keyword: declared below under its wire name.
    to = LedgerDateField(required=False)
    format = serializers.ChoiceField(choices=["json", "csv", "pdf"], required=False)


StatementQuerySerializer._declared_fields["from"] = LedgerDateField(required=False)


class StatementLineSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = MoneyOutput(minor="amount_minor", currency="currency")
    balance = MoneyOutput(minor="balance_minor", currency="currency")


class StatementSerializer(serializers.Serializer):
    artist = serializers.IntegerField()
    program = serializers.IntegerField()
    currency = serializers.CharField()
    to = serializers.DateField(allow_null=True)
    opening_balance = MoneyOutput(minor="opening_minor", currency="currency")
    closing_balance = MoneyOutput(minor="closing_minor", currency="currency")
    head_hash = serializers.CharField(allow_null=True)
    lines = StatementLineSerializer(many=True)


StatementSerializer._declared_fields["from"] = serializers.DateField(allow_null=True)


# --- Ledger ---------------------------------------------------------------------------------


class PostingSerializer(RowSerializer):
    account = serializers.CharField(source="account.code", read_only=True)
    amount = MoneyOutput(minor="amount_minor", currency="currency")

    class Meta:
        model = Posting
        fields = ["account", "amount"]
        read_only_fields = fields


_PAGE_POSTINGS = (
    "SELECT p.entry_id, (SELECT a.code FROM ledger_account a WHERE a.id = p.account_id), "
    "p.amount_minor, p.currency FROM ledger_posting p WHERE p.entry_id IN ({marks}) "
    "ORDER BY p.entry_id, p.id"
)


class EntrySerializer(RowSerializer):
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "program",
            "seq",
            "posted_at",
            "effective_date",
            "kind",
            "memo",
            "postings",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields

    @classmethod
    def load(cls, rows):
        """Attach each entry's postings (account code, minor units, currency), in id order."""
        by_entry = {row["id"]: row for row in rows}
        for row in rows:
            row["postings"] = []
        if not rows:
            return rows
        # The account code as a subquery, not a join: PostgreSQL hashes the whole account
        # table for a join (1.6 ms at 6,000 artists, growing with them) where 100 primary-key
        # lookups take 0.5 ms (EXPLAIN ANALYZE, docs/PERFORMANCE.md). Plain SQL, integers and
        # strings only: compiling the ORM form cost as much as running it.
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(by_entry))  # placeholders only
            cursor.execute(_PAGE_POSTINGS.format(marks=marks), list(by_entry))
            postings = cursor.fetchall()
        for entry_id, code, amount, currency in postings:
            by_entry[entry_id]["postings"].append(
                {"account": code, "amount_minor": amount, "currency": currency}
            )
        return rows


class EntryQuerySerializer(serializers.Serializer):
    program = IdField(required=False)
    artist = IdField(required=False)


class VerifyQuerySerializer(serializers.Serializer):
    program = IdField()


class JournalExportQuerySerializer(serializers.Serializer):
    program = IdField()
    format = serializers.ChoiceField(choices=["hledger", "beancount"])


class PayoutBatchQuerySerializer(serializers.Serializer):
    program = IdField()
    paid_on = LedgerDateField()


class StatementCheckSerializer(serializers.Serializer):
    """A statement as GET /statements/ returned it (JSON), to check against the chain."""

    artist = IdField()
    program = IdField()
    head_hash = serializers.CharField(max_length=64, allow_null=True)
    lines = serializers.ListField(child=serializers.DictField(), max_length=1_000_000)


class StatementCheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problem = serializers.CharField(allow_null=True)
    entries_checked = serializers.IntegerField()


class VerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    program = serializers.IntegerField()
    entries_checked = serializers.IntegerField()
    postings_checked = serializers.IntegerField()
    head_hash = serializers.CharField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
