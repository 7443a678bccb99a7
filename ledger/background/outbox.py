"""The mail outbox: what `ledger.mail.send` writes, and what the worker does with it.

    send ──(caller's transaction)──▶ pending ──claim──▶ sending ──▶ sent
                                        ▲                  │
                                        └── retry later ◀──┴──▶ failed (after the last attempt)

- `queue` writes the row in the caller's transaction and enqueues `deliver_mail` on commit.
- `deliver` claims the row with one conditional UPDATE (pending and due, or a lapsed claim),
  so two workers never both send it; hands it to the mail server (`ledger.mail.deliver`, at
  most `EMAIL_TIMEOUT` seconds per SMTP step); records it sent, or schedules the next attempt
  after a growing delay (`retry_delay`), or after `LEDGER_MAIL_ATTEMPTS` gives up.
- `sweep` (every minute, by the schedule) enqueues what is due but has no task on the way: an
  enqueue lost after commit, a retry on a backend that cannot defer, the claim of a killed
  worker once it lapses. So a message waits for a worker, but is never lost.

A message is handed to the server at least once, and once unless the worker dies after the
server took it and before the row says so (then it may arrive twice; never zero times).
Times are `ledger.clock`'s, never the database's.
"""

import datetime as dt
import functools
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F

from ledger import clock, mail

from . import workers
from .models import MailStatus, OutboundMail

logger = logging.getLogger("ledger.background")


def queue(*, to: str, subject: str, body: str) -> OutboundMail:
    """Write the message to the outbox in the current transaction; deliver after commit."""
    message = OutboundMail.objects.create(
        recipient=to, subject=subject, body=body, next_attempt_at=clock.now()
    )
    transaction.on_commit(functools.partial(enqueue, message.pk), robust=True)
    return message


def enqueue(mail_id: int, *, at: dt.datetime | None = None) -> None:
    """Ask a worker to deliver message `mail_id` (no earlier than `at`). A queue that cannot
    take it (Redis down) or cannot defer is logged, not raised: the sweep enqueues it again."""
    from .tasks import deliver_mail

    workers.ask(deliver_mail, mail_id, at=at, what=f"Mail {mail_id}", otherwise="the sweep will")


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: `LEDGER_MAIL_RETRY_SECONDS`, doubling
    each time, at most `LEDGER_MAIL_RETRY_MAX_SECONDS`."""
    first = settings.LEDGER_MAIL_RETRY_SECONDS
    return dt.timedelta(
        seconds=min(first * 2 ** max(attempts - 1, 0), settings.LEDGER_MAIL_RETRY_MAX_SECONDS)
    )


def deliver(mail_id: int) -> str:
    """Claim message `mail_id` and send it. Returns what happened: "sent", "retry", "failed",
    or "skipped" (not due, or another worker holds it, or already sent)."""
    now = clock.now()
    claimed = (
        OutboundMail.objects.filter(pk=mail_id)
        .due(now)
        .update(
            status=MailStatus.SENDING,
            claimed_until=now + dt.timedelta(seconds=settings.LEDGER_MAIL_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return "skipped"
    message = OutboundMail.objects.get(pk=mail_id)
    # Every later write is conditional on the claim still being this one: had it lapsed and
    # another worker claimed the message, that worker's outcome stands.
    mine = OutboundMail.objects.filter(
        pk=mail_id, status=MailStatus.SENDING, attempts=message.attempts
    )
    if message.attempts > settings.LEDGER_MAIL_ATTEMPTS:
        # Every worker that took it died with it (a claim lapsed on the last attempt).
        return give_up(mine, message, "its workers kept stopping before an outcome")
    try:
        mail.deliver(to=message.recipient, subject=message.subject, body=message.body)
    except mail.NotSent as error:
        reason = str(error)
    except Exception as error:  # not the server's answer: a fault here, logged in full
        logger.exception("Mail %s could not be handed to the email backend", mail_id)
        reason = f"{type(error).__name__}: {error}"
    else:
        mine.update(
            status=MailStatus.SENT, sent_at=clock.now(), body="", claimed_until=None, last_error=""
        )
        return "sent"
    if message.attempts >= settings.LEDGER_MAIL_ATTEMPTS:
        return give_up(mine, message, reason)
    at = clock.now() + retry_delay(message.attempts)
    mine.update(
        status=MailStatus.PENDING, next_attempt_at=at, claimed_until=None, last_error=reason[:1000]
    )
    enqueue(mail_id, at=at)
    return "retry"


def give_up(mine, message: OutboundMail, reason: str) -> str:
    mine.update(status=MailStatus.FAILED, body="", claimed_until=None, last_error=reason[:1000])
    logger.error(
        "Mail %s (%r to %s) given up after %d attempts: %s",
        message.pk,
        message.subject,
        message.recipient,
        message.attempts,
        reason,
    )
    return "failed"


def sweep() -> int:
    """Enqueue every message that is due but evidently has no task on the way (due for
    `LEDGER_MAIL_SWEEP_GRACE_SECONDS` already, or claimed by a worker whose claim lapsed), at
    most `LEDGER_MAIL_SWEEP_BATCH` a run; forget sent and failed messages older than
    `LEDGER_MAIL_KEEP_DAYS`. Returns how many were enqueued."""
    now = clock.now()
    overdue = now - dt.timedelta(seconds=settings.LEDGER_MAIL_SWEEP_GRACE_SECONDS)
    ids = list(
        OutboundMail.objects.stranded(overdue)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[: settings.LEDGER_MAIL_SWEEP_BATCH]
    )
    for mail_id in ids:
        enqueue(mail_id)
    OutboundMail.objects.filter(
        status__in=[MailStatus.SENT, MailStatus.FAILED],
        created_at__lt=now - dt.timedelta(days=settings.LEDGER_MAIL_KEEP_DAYS),
    ).delete()
    if ids:
        logger.info("Outbox sweep enqueued %d message(s)", len(ids))
    return len(ids)
