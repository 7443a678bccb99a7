"""Sending webhooks: the worker's side, one subscription at a time, in order.

    emit ──(caller's transaction)──▶ pending ──claim──▶ sending ──▶ succeeded
                                        ▲                  │
                                        └── retry later ◀──┴──▶ failed (schedule exhausted)

`deliver_subscription` (the body of `tasks.deliver_webhooks`) works a subscription's line:
it takes the oldest undelivered delivery (the head), claims it with one conditional UPDATE
(so two workers never send it at once; the claim is a lease, so a killed worker's claim
lapses), checks the address again (`guard.check_url`), signs and POSTs it, and records the
attempt. On a 2xx the delivery succeeded and the next one is taken; otherwise the head waits
for its next attempt (`LEDGER_WEBHOOKS_RETRY_SECONDS`: 5 s, 10 s, 30 s, 1 min, … 8 h, 10 h —
more than 24 hours) and the deliveries behind it wait too, so a receiver that comes
back gets every event, in order. A head whose schedule is exhausted is `failed`, and the line
moves on.

`sweep` (every minute, `LEDGER_SCHEDULE`) enqueues every subscription whose head is due but
has no task on the way (an enqueue lost after commit, a retry on a backend that cannot defer,
a lapsed claim). A receiver answering non-2xx or not at all is an expected outcome: logged at
info, recorded in the attempt log, never an error.

Each delivery is sent at least once; twice only if a worker dies after the receiver took it
and before the row says so (receivers deduplicate on `webhook-id`).
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Min, Q, Subquery
from standardwebhooks.webhooks import Webhook

from ledger import clock
from ledger.background import workers

from . import guard, http
from .models import (
    UNDELIVERED,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger("ledger.webhooks")


def enqueue(subscription_id: int, *, at: dt.datetime | None = None) -> None:
    """Ask a worker to work subscription `subscription_id`'s line (no earlier than `at`). A
    queue that cannot take it is logged, not raised: the sweep enqueues it again."""
    from ledger.background.tasks import deliver_webhooks

    workers.ask(
        deliver_webhooks,
        subscription_id,
        at=at,
        what=f"Webhooks of subscription {subscription_id}",
        otherwise="the sweep will",
    )


def schedule() -> list[int]:
    """Seconds to wait after each failed attempt; its length + 1 is the number of attempts."""
    return [int(s) for s in settings.LEDGER_WEBHOOKS_RETRY_SECONDS]


def max_attempts() -> int:
    return len(schedule()) + 1


def retry_delay(failed_in_schedule: int) -> dt.timedelta:
    """The wait after the `failed_in_schedule`-th failed attempt of the schedule (1-based)."""
    return dt.timedelta(seconds=schedule()[failed_in_schedule - 1])


def signed_headers(secret: str, webhook_id: str, body: str, moment: dt.datetime) -> dict:
    """The Standard Webhooks headers for `body` sent at `moment` (`v1,` + base64 of the
    HMAC-SHA256 of `id.timestamp.body`, by the reference library)."""
    moment = moment.astimezone(dt.UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, body),
    }


def head_of_line(subscription_id: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.filter(subscription_id=subscription_id, status__in=UNDELIVERED)
        .order_by("id")
        .first()
    )


def _due(head: WebhookDelivery, now: dt.datetime) -> bool:
    """Whether a worker may try `head` at `now`: never tried (at once, whatever the clocks of
    the web server and the worker say), its next attempt come, or a lapsed claim (the worker
    that held it died or hung)."""
    if head.status == DeliveryStatus.SENDING:
        return head.claimed_until < now
    return head.attempts == head.schedule_from or head.next_attempt_at <= now


def deliver_subscription(subscription_id: int) -> str:
    """Work subscription `subscription_id`'s line until it is empty, its head must wait, or
    `LEDGER_WEBHOOKS_BATCH` deliveries were sent (then another task takes over). Returns why
    it stopped: "done", "waiting", "busy" (another worker holds the head), "more"."""
    for _ in range(settings.LEDGER_WEBHOOKS_BATCH):
        head = head_of_line(subscription_id)
        if head is None:
            return "done"
        now = clock.now()
        if not _due(head, now):
            # A retry's task was enqueued for its time when it failed (or the sweep will).
            return "waiting" if head.status == DeliveryStatus.PENDING else "busy"
        outcome = attempt(head, now)
        if outcome == "skipped":
            return "busy"
        if outcome == "retry":
            return "waiting"
    enqueue(subscription_id)
    return "more"


def attempt(head: WebhookDelivery, now: dt.datetime) -> str:
    """Claim `head` and make one attempt. Returns "succeeded", "retry", "failed", or
    "skipped" (another worker claimed it first)."""
    lease = dt.timedelta(seconds=settings.LEDGER_WEBHOOKS_LEASE_SECONDS)
    claimed = (
        WebhookDelivery.objects.filter(pk=head.pk, status=head.status, attempts=head.attempts)
        .filter(
            Q(status=DeliveryStatus.PENDING, attempts=F("schedule_from"))
            | Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .update(
            status=DeliveryStatus.SENDING, claimed_until=now + lease, attempts=F("attempts") + 1
        )
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=head.pk).first()
    if delivery is None:  # its subscription was removed meanwhile
        return "skipped"
    # Later writes hold only while the claim is still this one: had it lapsed and another
    # worker claimed the delivery, that worker's outcome stands.
    mine = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    )
    in_schedule = delivery.attempts - delivery.schedule_from
    if in_schedule > max_attempts():
        # Every worker that took it died with it (a claim lapsed on the last attempt).
        return _finish(mine, delivery, None, "Its workers kept stopping before an outcome.", 0)
    outcome = send(delivery.subscription, delivery)
    try:
        with transaction.atomic():
            WebhookAttempt.objects.create(
                delivery_id=delivery.pk,
                at=clock.now(),
                status_code=outcome.status_code,
                error=outcome.error[:2000],
                duration_ms=outcome.duration_ms,
            )
    except IntegrityError:  # the subscription was removed while this attempt was made
        return "skipped"
    if outcome.ok:
        mine.update(
            status=DeliveryStatus.SUCCEEDED,
            claimed_until=None,
            last_status_code=outcome.status_code,
            last_attempt_at=clock.now(),
        )
        return "succeeded"
    if in_schedule >= max_attempts():
        return _finish(mine, delivery, outcome.status_code, outcome.error, in_schedule)
    at = clock.now() + retry_delay(in_schedule)
    mine.update(
        status=DeliveryStatus.PENDING,
        claimed_until=None,
        next_attempt_at=at,
        last_status_code=outcome.status_code,
        last_attempt_at=clock.now(),
    )
    logger.info(
        "Webhook %s (%s) to subscription %s not delivered (attempt %d): %s; next at %s",
        delivery.webhook_id,
        delivery.event_type,
        delivery.subscription_id,
        delivery.attempts,
        outcome.error,
        at.isoformat(),
    )
    enqueue(delivery.subscription_id, at=at)
    return "retry"


def _finish(mine, delivery, status_code, reason: str, in_schedule: int) -> str:
    mine.update(
        status=DeliveryStatus.FAILED,
        claimed_until=None,
        last_status_code=status_code,
        last_attempt_at=clock.now(),
    )
    # Expected (the receiver's side): a warning, never an error with a traceback.
    logger.warning(
        "Webhook %s (%s) to subscription %s failed after %d attempts: %s",
        delivery.webhook_id,
        delivery.event_type,
        delivery.subscription_id,
        delivery.attempts,
        reason,
    )
    return "failed"


def send(subscription: WebhookSubscription, delivery: WebhookDelivery) -> http.Outcome:
    """Check the receiver's address again, sign at this moment, and POST."""
    try:
        target = guard.check_url(subscription.url)
    except guard.Refused as refusal:
        return http.Outcome(status_code=None, error=f"Refused: {refusal}", duration_ms=0)
    headers = signed_headers(subscription.secret, delivery.webhook_id, delivery.body, clock.now())
    return http.post(target, delivery.body.encode(), headers)


def sweep() -> int:
    """Enqueue every subscription whose head of line is due but evidently has no task on the
    way (due for `LEDGER_WEBHOOKS_SWEEP_GRACE_SECONDS` already, or claimed by a worker whose
    claim lapsed); forget finished deliveries older than `LEDGER_WEBHOOKS_KEEP_DAYS`.
    Returns how many subscriptions were enqueued."""
    now = clock.now()
    overdue = now - dt.timedelta(seconds=settings.LEDGER_WEBHOOKS_SWEEP_GRACE_SECONDS)
    heads = (
        WebhookDelivery.objects.filter(status__in=UNDELIVERED)
        .values("subscription_id")
        .order_by()
        .annotate(head=Min("id"))
        .values("head")
    )
    ids = list(
        WebhookDelivery.objects.filter(pk__in=Subquery(heads))
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=overdue)
            | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
        )
        .order_by("subscription_id")
        .values_list("subscription_id", flat=True)[: settings.LEDGER_WEBHOOKS_SWEEP_BATCH]
    )
    for subscription_id in ids:
        enqueue(subscription_id)
    WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED],
        created_at__lt=now - dt.timedelta(days=settings.LEDGER_WEBHOOKS_KEEP_DAYS),
    ).delete()
    if ids:
        logger.info("Webhook sweep enqueued %d subscription(s)", len(ids))
    return len(ids)
