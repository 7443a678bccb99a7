"""Payouts: grants and settlements, and their voids."""

from rest_framework import serializers

from accounts.models import User
from ledger.models import (
    Payout,
    PayoutKind,
    Program,
)

from ..fields import (
    IdRelatedField,
    MoneyInput,
    MoneyOutput,
    TextField,
    VisibleIdRelatedField,
    parse_money,
)
from .common import TEXT_MAX, ProgramArtistFilterSerializer, RowSerializer


class PayoutCreateSerializer(serializers.Serializer):
    artist = IdRelatedField(queryset=User.objects.filter(is_active=True))
    program = VisibleIdRelatedField(queryset=Program.objects.all())
    amount = MoneyInput()
    kind = serializers.ChoiceField(choices=PayoutKind.choices)
    paid_on = serializers.DateField(required=False, allow_null=True, default=None)
    method = TextField(max_length=200, required=False, allow_blank=True, default="")
    reference = TextField(max_length=200, required=False, allow_blank=True, default="")
    note = TextField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        try:
            attrs["amount_minor"] = parse_money(attrs["amount"], attrs["program"].currency)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"amount": exc.detail}) from None
        return attrs


class PayoutSerializer(RowSerializer):
    amount = MoneyOutput(minor="amount_minor")
    # Each resource declares its own wire fields in its contract's order (docs/API.md):
    # declarations alike in shape only.
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
            "proposed_by",
            "approved_by",
            "approved_at",
            "declined_by",
            "declined_at",
            "decline_reason",
            "acknowledged",
            "acknowledged_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "acknowledged": {
                "help_text": "`confirmed` once the artist confirmed receiving the money "
                "(`POST /payouts/{id}/confirm/`); null until then."
            },
            "acknowledged_at": {"help_text": "When the artist confirmed it; null until then."},
        }


class PayoutFilterSerializer(ProgramArtistFilterSerializer):
    kind = serializers.ChoiceField(choices=PayoutKind.choices, required=False)
