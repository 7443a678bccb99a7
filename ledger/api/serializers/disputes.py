"""Disputes: an artist's objection to a decision about its work or pay, and its decision."""

from django.db.models import F
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ledger.models import (
    Contribution,
    Dispute,
    DisputeClaim,
    DisputeStatus,
    DisputeSubject,
    Payout,
    Severity,
)

from ..fields import HoursField, IdField, TextField, VisibleTextField
from .common import TEXT_MAX, ProgramArtistFilterSerializer, RowSerializer

EVIDENCE_MAX = 2000


@extend_schema_field(
    {
        "type": "string",
        "maxLength": EVIDENCE_MAX,
        "pattern": r"^$|^[Hh][Tt][Tt][Pp][Ss]?://[^\u0000]+$",
        "description": "An http(s) link to evidence (a well-formed URL), or empty.",
    }
)
class EvidenceUrlField(TextField):
    """A link to evidence: empty, or an http(s) URL (`services.common.is_web_url` decides)."""


_SUBJECTS = {DisputeSubject.CONTRIBUTION: Contribution, DisputeSubject.PAYOUT: Payout}


class DisputeCreateSerializer(serializers.Serializer):
    subject_type = serializers.ChoiceField(choices=DisputeSubject.choices)
    subject = IdField(help_text="The id of the contribution or payout disputed: the caller's own.")
    claim = serializers.ChoiceField(
        choices=DisputeClaim.choices,
        help_text=(
            "`rejection` (a rejected contribution) or `valuation` (an accepted one) for a "
            "contribution; `not_received` (a paid payout) for a payout."
        ),
    )
    statement = VisibleTextField(max_length=TEXT_MAX)
    evidence_url = EvidenceUrlField(
        max_length=EVIDENCE_MAX,
        required=False,
        allow_blank=True,
        default="",
    )

    def validate(self, attrs):
        """The subject among the objects the caller sees: anything else is no object."""
        request = self.context["request"]
        model = _SUBJECTS[attrs["subject_type"]]
        found = (
            model.objects.visible_to(request.user)
            .select_related("program")
            .filter(pk=attrs["subject"])
            .first()
        )
        if found is None:
            raise serializers.ValidationError(
                {"subject": [f'Invalid pk "{attrs["subject"]}" - object does not exist.']}
            )
        attrs["subject"] = found
        return attrs


class DisputeSerializer(RowSerializer):
    subject = serializers.IntegerField(
        read_only=True, help_text="The id of the contribution or payout (`subject_type`)."
    )
    evidence_url = serializers.CharField(
        read_only=True, help_text="An http(s) link to evidence, or empty."
    )

    class Meta:
        model = Dispute
        fields = [
            "id",
            "program",
            "artist",
            "subject_type",
            "subject",
            "claim",
            "statement",
            "evidence_url",
            "status",
            "opened_at",
            "decided_at",
            "decided_by",
            "decision_note",
            "outcome",
        ]
        read_only_fields = fields

    @classmethod
    def rows(cls, queryset):
        """The declared fields' columns, `subject` being whichever of the two keys is set."""
        columns = [name for name in cls.Meta.fields if name != "subject"]
        return queryset.values(*columns, subject=Coalesce(F("contribution_id"), F("payout_id")))


class DisputeFilterSerializer(ProgramArtistFilterSerializer):
    status = serializers.ChoiceField(choices=DisputeStatus.choices, required=False)


class DisputeUpholdSerializer(serializers.Serializer):
    note = VisibleTextField(max_length=TEXT_MAX)
    hours = HoursField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Feedback: the hours the work is valued at (required for `valuation`).",
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="A bug report: the severity it is valued at (required for `valuation`).",
    )


class DisputeDismissSerializer(serializers.Serializer):
    note = VisibleTextField(max_length=TEXT_MAX)
