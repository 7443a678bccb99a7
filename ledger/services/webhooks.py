"""Webhook subscriptions: a manager subscribes a receiver to a program's events, removes it,
and sends a delivery again. What is sent, and when, is `ledger.webhooks`' business."""

import base64
import functools
import secrets

from django.db import transaction

from ledger import access, clock
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.webhooks import guard
from ledger.webhooks.delivery import enqueue
from ledger.webhooks.models import (
    EVENT_TYPES,
    DeliveryStatus,
    WebhookDelivery,
    WebhookSubscription,
)

from . import audit
from .common import is_blank

URL_MAX = 2000
DESCRIPTION_MAX = 200


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes (the Standard Webhooks form)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def check_events(events) -> list[str]:
    """The events asked for, each once, in the contract's order; 400 naming `events`."""
    if not isinstance(events, list | tuple) or not events:
        raise ValidationFailed("Choose at least one event.", field="events")
    unknown = [e for e in events if not isinstance(e, str) or e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            f"Unknown event {unknown[0]!r}; events are {', '.join(EVENT_TYPES)}.", field="events"
        )
    return [e for e in EVENT_TYPES if e in events]


def check_url(url) -> str:
    """A URL that may receive webhooks (`guard.check_url`); 400 naming `url`."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise ValidationFailed("Give the receiver's URL.", field="url")
    if len(url) > URL_MAX:
        raise ValidationFailed(f"At most {URL_MAX} characters.", field="url")
    try:
        guard.check_url(url)
    except guard.Refused as refusal:
        raise ValidationFailed(str(refusal), field="url") from None
    return url


def create_subscription(
    *, actor, program, url: str, events, description: str = ""
) -> WebhookSubscription:
    """Subscribe `url` to `events` of `program` (a manager's act). The returned subscription
    carries its signing secret (`.secret`); it is never shown again."""
    access.require(actor, access.Action.MANAGE, program.pk)
    url = check_url(url)
    events = check_events(events)
    description = (description or "").strip()
    if is_blank(description):
        description = ""
    if len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(f"At most {DESCRIPTION_MAX} characters.", field="description")
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(
            program=program,
            url=url,
            events=events,
            description=description,
            secret=new_secret(),
            created_at=clock.now(),
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="webhook.create",
            obj=subscription,
            program=program,
            url=url,
            events=events,
        )
    return subscription


def delete_subscription(*, actor, subscription: WebhookSubscription) -> None:
    """Remove a subscription with its deliveries and their log (a manager's act); nothing more
    is sent to it."""
    access.require(actor, access.Action.MANAGE, subscription.program_id)
    with transaction.atomic():
        deleted, _ = WebhookSubscription.objects.filter(pk=subscription.pk).delete()
        if not deleted:
            raise WebhookSubscription.DoesNotExist
        audit.record(
            actor=actor,
            action="webhook.delete",
            obj=subscription,
            program=subscription.program_id,
            url=subscription.url,
        )


def redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, under the same `webhook-id` and with the same body, with a
    whole retry schedule of its own (a manager's act). A delivery being sent at this moment
    is refused (409): its outcome is still to come."""
    subscription = delivery.subscription
    access.require(actor, access.Action.MANAGE, subscription.program_id)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        now = clock.now()
        if delivery.status == DeliveryStatus.SENDING and delivery.claimed_until >= now:
            raise InvalidTransition("This delivery is being sent now; wait for its outcome.")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.claimed_until = None
        delivery.schedule_from = delivery.attempts
        delivery.save(update_fields=["status", "next_attempt_at", "claimed_until", "schedule_from"])
        audit.record(
            actor=actor,
            action="webhook.redeliver",
            obj=delivery,
            program=subscription.program_id,
            webhook_id=delivery.webhook_id,
        )
        transaction.on_commit(functools.partial(enqueue, subscription.pk), robust=True)
    delivery.subscription = subscription
    return delivery
