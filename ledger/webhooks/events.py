"""The one place services report an event to webhooks.

`emit(program_id, event_type, data)` is called by a service inside its transaction, after the
change: one SELECT finds the program's active subscriptions, and each one subscribed to the
event gets a delivery row (one INSERT for them all). After commit the worker is asked to
deliver (`delivery.enqueue`); a rolled-back change leaves no row and sends nothing.
`emit_many` is the same for many events of one type (a bulk import): still one SELECT, and the
rows inserted in batches (on PostgreSQL by COPY, as the import writes its contributions:
preparing 100,000 model instances cost more than the import's own rows).

Each delivery's body is `{"type", "timestamp", "data"}`: the event type, when the event
happened (ISO 8601, UTC), and the resource as the functions below render it (docs/API.md,
"Webhooks"). The body is fixed here, so every attempt sends the same bytes.
"""

import datetime as dt
import functools
import itertools
import json
import secrets
import string

from django.db import connection, transaction

from ledger import clock, money

from .models import EVENT_TYPES, DeliveryStatus, WebhookDelivery

_ALPHABET = string.ascii_letters + string.digits
_BATCH = 1000

_SUBSCRIPTIONS_SQL = (
    "SELECT id, events FROM webhooks_webhooksubscription WHERE program_id = %s AND active = %s"
)


def new_webhook_id() -> str:
    """`msg_` and 24 random letters and digits (no `.`: the signature joins id, time and body
    with dots)."""
    return "msg_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def timestamp(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the API writes times."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _date(day) -> str | None:
    return None if day is None else day.isoformat()


def contribution_data(contribution) -> dict:
    currency = contribution.program.currency
    value = contribution.value_minor
    return {
        "id": contribution.pk,
        "program": contribution.program_id,
        "artist": contribution.artist_id,
        "kind": contribution.kind,
        "title": contribution.title,
        "occurred_on": _date(contribution.occurred_on),
        "hours": money.format_hours(contribution.hours),
        "severity": contribution.severity,
        "reference": contribution.reference,
        "status": contribution.status,
        "value": None if value is None else money.format_minor(value, currency),
        "currency": currency,
        "submitted_at": timestamp(contribution.submitted_at),
        "reviewed_at": timestamp(contribution.reviewed_at),
    }


def payout_data(payout) -> dict:
    currency = payout.program.currency
    return {
        "id": payout.pk,
        "program": payout.program_id,
        "artist": payout.artist_id,
        "amount": money.format_minor(payout.amount_minor, currency),
        "currency": currency,
        "kind": payout.kind,
        "paid_on": _date(payout.paid_on),
        "reference": payout.reference,
        "status": payout.status,
        "created_at": timestamp(payout.created_at),
        "approved_at": timestamp(payout.approved_at),
        "voided_at": timestamp(payout.voided_at),
    }


def dispute_data(dispute) -> dict:
    return {
        "id": dispute.pk,
        "program": dispute.program_id,
        "artist": dispute.artist_id,
        "subject_type": dispute.subject_type,
        "subject": dispute.contribution_id or dispute.payout_id,
        "claim": dispute.claim,
        "status": dispute.status,
        "opened_at": timestamp(dispute.opened_at),
        "decided_at": timestamp(dispute.decided_at),
        "outcome": dispute.outcome,
    }


def _subscribers(program_id: int, event_type: str) -> list[int]:
    """The program's active subscriptions to `event_type`: one statement. The event filter
    is applied here rather than in SQL, where JSON containment differs per database."""
    with connection.cursor() as cursor:
        cursor.execute(_SUBSCRIPTIONS_SQL, [program_id, True])
        rows = cursor.fetchall()
    chosen = []
    for subscription_id, events in rows:
        if isinstance(events, str):  # SQLite hands JSON back as text
            events = json.loads(events)
        if event_type in events:
            chosen.append(subscription_id)
    return chosen


def _body(event_type: str, moment: str, data: dict) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": moment, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def emit(program_id: int, event_type: str, data: dict) -> int:
    """Report one event of `program_id`; returns how many deliveries were written."""
    return emit_many(program_id, event_type, [data])


def emit_many(program_id: int, event_type: str, datas) -> int:
    """Report events of one type in `program_id` (each `data` one resource); call inside the
    transaction of the change. Returns how many deliveries were written."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event {event_type!r}")
    subscriptions = _subscribers(program_id, event_type)
    if not subscriptions:
        return 0
    now = clock.now()
    moment = timestamp(now)
    # Event by event, each subscription's delivery of it: ids rise in event order per line.
    pairs = (
        (subscription_id, _body(event_type, moment, data))
        for data in datas
        for subscription_id in subscriptions
    )
    if connection.vendor == "postgresql":
        written = _copy_deliveries(pairs, event_type, now)
    else:
        written = 0
        while batch := list(itertools.islice(pairs, _BATCH)):
            WebhookDelivery.objects.bulk_create(
                WebhookDelivery(
                    subscription_id=subscription_id,
                    event_type=event_type,
                    webhook_id=new_webhook_id(),
                    body=body,
                    next_attempt_at=now,
                    created_at=now,
                )
                for subscription_id, body in batch
            )
            written += len(batch)
    from .delivery import enqueue

    for subscription_id in subscriptions:
        transaction.on_commit(functools.partial(enqueue, subscription_id), robust=True)
    return written


# The columns a new delivery sets, in COPY's order (the rest are NULL until an attempt).
_COPY_COLUMNS = (
    "subscription_id", "event_type", "webhook_id", "body", "status", "attempts",
    "schedule_from", "next_attempt_at", "created_at",
)  # fmt: skip


PENDING = DeliveryStatus.PENDING.value


def _copy_deliveries(pairs, event_type: str, now: dt.datetime) -> int:
    """PostgreSQL: write new deliveries with COPY, in the order given (ids from the table's
    identity, so in that order too)."""
    table = WebhookDelivery._meta.db_table
    sql = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    written = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for subscription_id, body in pairs:
            copy.write_row(
                (subscription_id, event_type, new_webhook_id(), body, PENDING, 0, 0, now, now)
            )
            written += 1
    return written
