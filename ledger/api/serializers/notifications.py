"""Notifications and the caller's preferences."""

from rest_framework import serializers

from ledger.models import Notification
from ledger.notifications import SUBJECT_TYPES

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


class PreferencesUpdateSerializer(serializers.Serializer):
    email_notifications = JSONBooleanField(
        required=False,
        help_text="`true` to email each notification too, `false` for the inbox alone.",
    )
