"""Contributions: logging work, reviewing it, listing it."""

from rest_framework import serializers

from accounts.models import User
from ledger import clock
from ledger.models import (
    Contribution,
    ContributionKind,
    ContributionStatus,
    Program,
    Severity,
)
from ledger.models.contributions import is_overdue

from ..fields import (
    HoursField,
    IdRelatedField,
    NullableHoursField,
    NullableMoneyOutput,
    QueryBooleanField,
    TextField,
    VisibleIdRelatedField,
    VisibleTextField,
)
from .common import TEXT_MAX, ProgramArtistFilterSerializer, RowSerializer


class ContributionCreateSerializer(serializers.Serializer):
    program = VisibleIdRelatedField(queryset=Program.objects.all())
    kind = serializers.ChoiceField(choices=ContributionKind.choices)
    title = VisibleTextField(max_length=200)
    description = TextField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")
    occurred_on = serializers.DateField()
    hours = HoursField(required=False, allow_null=True, default=None)
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, default=None
    )
    reference = TextField(max_length=200, required=False, allow_blank=True, default="")
    artist = IdRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )


class ContributionSerializer(RowSerializer):
    hours = NullableHoursField(allow_null=True, read_only=True)
    value = NullableMoneyOutput(minor="value_minor")
    # Each resource declares its own wire fields in its contract's order (docs/API.md):
    # declarations alike in shape only.
    currency = serializers.CharField(source="program.currency", read_only=True)
    review_due_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="When the work is due for review: its submission's UTC date plus the "
        "program's `review_within_days`.",
    )
    overdue = serializers.BooleanField(
        source="is_overdue",
        read_only=True,
        help_text="Still `submitted` after `review_due_on` (today, UTC).",
    )

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
            "review_due_on",
            "overdue",
        ]
        read_only_fields = fields

    @classmethod
    def rows(cls, rows):
        """Already rows: `queries.contribution_rows` (plain SQL)."""
        return rows

    @classmethod
    def load(cls, rows):
        """`overdue` from the row's status and due date (`is_overdue`, the rule's home)."""
        today = clock.today()
        for row in rows:
            row["overdue"] = is_overdue(row["status"], row["review_due_on"], today)
        return rows


class AcceptSerializer(serializers.Serializer):
    note = TextField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")
    hours = HoursField(required=False, allow_null=True, default=None)
    severity = serializers.ChoiceField(
        choices=Severity.choices, required=False, allow_null=True, default=None
    )


class ContributionFilterSerializer(ProgramArtistFilterSerializer):
    status = serializers.ChoiceField(choices=ContributionStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=ContributionKind.choices, required=False)
    overdue = QueryBooleanField(
        required=False,
        help_text="`true`: only work overdue for review today; `false`: only work that is not.",
    )
