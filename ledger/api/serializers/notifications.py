"""Notifications and the caller's preferences."""

from rest_framework import serializers

from ledger import banking
from ledger.models import Notification
from ledger.notifications import SUBJECT_TYPES
from ledger.services.banking import bank_details_of

from ..fields import JSONBooleanField
from .common import QuerySerializer, RowSerializer


class NotificationSerializer(RowSerializer):
    subject_type = serializers.ChoiceField(
        choices=[(name, name) for name in SUBJECT_TYPES],
        read_only=True,
        help_text="What the notification is about; `subject` is its id.",
    )
    subject = serializers.IntegerField(
        source="subject_id",
        read_only=True,
        help_text="The id of the object it is about (`GET /contributions/{id}/`, "
        "`/payouts/{id}/`, `/disputes/{id}/`; an invitation's is listed under its program). "
        "Seeing the notification does not make the object visible.",
    )
    read_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was marked read; null while unread."
    )

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "subject_type", "subject", "created_at", "read_at"]
        read_only_fields = fields

    @classmethod
    def load(cls, rows: list) -> list:
        """Ids are integers on the wire, as everywhere in the API (the row keeps them as
        text: the one column names objects of several tables)."""
        for row in rows:
            row["subject"] = int(row["subject"])
        return rows


class NotificationFilterSerializer(QuerySerializer):
    unread = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="`true`: only the unread; `false`: only those already read.",
    )


class NotificationsMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(
        read_only=True, help_text="How many unread notifications were marked read."
    )


# Each preference is a field of both shapes and one keyword of `services.set_preferences`,
# by its name: a new preference (banking details) is a declaration in each and an argument.
class PreferencesSerializer(serializers.Serializer):
    email_notifications = serializers.BooleanField(
        read_only=True,
        help_text="Whether each notification is also emailed (the inbox keeps them either "
        "way). Default true.",
    )
    iban = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The IBAN you are paid to, masked: `•••• ` and its last 4 characters "
        "(e.g. `•••• 3000`); null when none is on file.",
    )
    bic = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Its bank's BIC, masked the same way; null when none is on file (none "
        "given and none derivable from the IBAN).",
    )

    @staticmethod
    def of(user) -> dict:
        """What the serializer reads for `user`: its preferences, banking details masked."""
        details = bank_details_of(user)
        return {
            "email_notifications": user.email_notifications,
            "iban": banking.mask(details.iban) if details else None,
            "bic": (banking.mask(details.bic) or None) if details else None,
        }


class PreferencesUpdateSerializer(serializers.Serializer):
    email_notifications = JSONBooleanField(
        required=False,
        help_text="`true` to email each notification too, `false` for the inbox alone.",
    )
    iban = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Where you are paid: an IBAN (spaces and case do not matter), checked "
        "(country, length, check digits). Sending one without `bic` sets the BIC derived from "
        "it when known. Empty string: clears your banking details (IBAN and BIC).",
    )
    bic = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Your bank's BIC (8 or 11 characters), of the IBAN's country. Optional: "
        "empty string re-derives it from the IBAN (or leaves none); needs an IBAN on file or "
        "in the same request.",
    )
