"""Webhook subscriptions and their deliveries (the Standard Webhooks contract, docs/API.md)."""

from rest_framework import serializers

from ledger.webhooks.models import (
    EVENT_TYPES,
    SHOWN_DELIVERY_STATUSES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

from ..fields import TextField

EVENTS_HELP = "The events sent to this URL: " + ", ".join(f"`{e}`" for e in EVENT_TYPES) + "."


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[(e, e) for e in EVENT_TYPES]),
        read_only=True,
        help_text=EVENTS_HELP,
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "program", "url", "events", "description", "active", "created_at"]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="`whsec_` and the base64 of 32 random bytes: the key the Standard Webhooks "
        "libraries verify signatures with. Shown only in this answer; keep it.",
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EventListField(serializers.ListField):
    """Events, each one of the contract's; any other is a 400 naming `events` itself (not
    `events.0`: the list is the field a client fixes)."""

    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.ChoiceField(choices=[(e, e) for e in EVENT_TYPES]),
            allow_empty=False,
            min_length=1,  # what `allow_empty` refuses, said in the schema (minItems)
            max_length=len(EVENT_TYPES),
            **kwargs,
        )

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict):  # an item's error, keyed by its index
                raise serializers.ValidationError(
                    "Unknown event; events are " + ", ".join(EVENT_TYPES) + "."
                ) from None
            raise


class WebhookCreateSerializer(serializers.Serializer):
    url = TextField(
        max_length=2000,
        help_text="`https://` (or `http://` where the server allows it); a host that "
        "resolves to a loopback, private, link-local or metadata address is refused.",
    )
    events = EventListField(help_text=EVENTS_HELP + " Each at most once.")
    description = TextField(max_length=200, required=False, allow_blank=True, default="")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The receiver's answer; null: no answer."
    )

    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=[(c, c) for c in SHOWN_DELIVERY_STATUSES],
        source="shown_status",
        read_only=True,
        help_text="`pending` until a 2xx (`succeeded`) or the retry schedule ends (`failed`).",
    )
    last_status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The last answer's status; null: none yet."
    )
    next_attempt_at = serializers.DateTimeField(
        source="shown_next_attempt_at",
        read_only=True,
        allow_null=True,
        help_text="When it is tried next; null once succeeded or failed.",
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_type",
            "webhook_id",
            "status",
            "attempts",
            "last_status_code",
            "last_attempt_at",
            "next_attempt_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    attempts_log = WebhookAttemptSerializer(
        source="attempt_log", many=True, read_only=True, help_text="Every attempt, oldest first."
    )
    body = serializers.CharField(read_only=True, help_text="The exact JSON body sent.")

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "body", "attempts_log"]
        read_only_fields = fields
