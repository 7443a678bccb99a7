"""Webhooks through a real worker process (`manage.py db_worker`) to a real local receiver:
the receiver is down while events happen, comes back, and gets every event once, in order,
signed so that the reference library verifies them; every attempt is in the log, and the
worker logs no error."""

import pytest
from cryptography.fernet import Fernet
from standardwebhooks.webhooks import Webhook

from ledger import services
from ledger.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.background.processes import db_worker, eventually, worker_env
from tests.conftest import accepted_work, make_program
from tests.factories import UserFactory
from tests.webhooks.receiver import Receiver

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_receiver_down_for_a_while_gets_every_event_in_order(settings, tmp_path):
    # This process writes what the worker reads: the same task queue, the same encryption key
    # (the worker's own DJANGO_SECRET_KEY differs), local receivers allowed in both.
    key = Fernet.generate_key().decode()
    settings.TASKS = DATABASE_TASKS
    settings.LEDGER_ENCRYPTION_KEYS = [key]
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = True
    receiver = Receiver()
    receiver.stop()  # down
    admin = UserFactory(is_superuser=True)
    artist = UserFactory()
    program = make_program(admin)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    subscription = services.create_subscription(
        actor=admin,
        program=program,
        url=receiver.url,
        events=["contribution.accepted", "payout.paid"],
    )
    work = accepted_work(program, artist, admin)
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
    )
    accepted, paid = subscription.deliveries.order_by("id")
    log = tmp_path / "worker.log"
    env = worker_env(LEDGER_ENCRYPTION_KEYS=key, LEDGER_WEBHOOKS_ALLOW_INSECURE="true")
    try:
        with db_worker(env, log):
            eventually(
                lambda: WebhookAttempt.objects.filter(delivery=accepted).count() >= 3,
                timeout=20,
                what="three failed attempts while the receiver is down",
                log=log,
            )
            assert WebhookAttempt.objects.filter(delivery=paid).count() == 0  # waits behind
            receiver.start()  # back
            eventually(
                lambda: (
                    set(subscription.deliveries.values_list("status", flat=True)) == {"succeeded"}
                ),
                timeout=20,
                what="every delivery succeeded once the receiver is back",
                log=log,
            )
    finally:
        receiver.stop()
    events = [Webhook(subscription.secret).verify(r.body, r.headers) for r in receiver.received]
    assert [(e["type"], e["data"]["id"]) for e in events] == [
        ("contribution.accepted", work.pk),
        ("payout.paid", payout.pk),
    ]
    assert [r.headers["webhook-id"] for r in receiver.received] == [
        accepted.webhook_id,
        paid.webhook_id,
    ]
    attempts = list(
        WebhookAttempt.objects.filter(delivery=accepted).values_list("status_code", "error")
    )
    assert attempts[-1] == (204, "") and len(attempts) >= 4
    assert all(code is None and "Connection" in error for code, error in attempts[:-1])
    paid_row = WebhookDelivery.objects.get(pk=paid.pk)
    assert (paid_row.attempts, paid_row.last_status_code) == (1, 204)
    output = log.read_text()
    assert "Traceback" not in output and "ERROR" not in output, output[-3000:]
