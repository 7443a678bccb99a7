"""The outbox in-process: what `mail.send` writes and enqueues, the claim, the retries with
growing delays, giving up, the sweep. Real SMTP (aiosmtpd) where a message is sent.

The worker as a real process (a dead server, a killed worker, two workers): test_worker.py."""

import datetime as dt
import logging
import threading

import pytest
from django.db import connections, transaction
from django_tasks_db.models import DBTaskResult

from ledger import clock, mail, services
from ledger.background import outbox
from ledger.background.models import MailStatus, OutboundMail
from tests.test_mail import dead_smtp, smtp  # noqa: F401 (fixtures)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def database_tasks(settings):
    """Tasks wait in the database (the default backend) instead of running at once."""
    settings.TASKS = DATABASE_TASKS


def delivery_tasks():
    return list(
        DBTaskResult.objects.filter(task_path="ledger.background.tasks.deliver_mail").order_by(
            "enqueued_at"
        )
    )


def queued(**kwargs) -> OutboundMail:
    fields = {"to": "nia@example.org", "subject": "Hello", "body": "a link"} | kwargs
    return outbox.queue(**fields)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing_a_committed_one_queues_exactly_one(
    database_tasks, admin, program
):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.invite(actor=admin, program=program, email="gone@example.org")
        raise RuntimeError("the change fails after the invitation")
    assert not OutboundMail.objects.exists()
    assert delivery_tasks() == []

    invitation = services.invite(actor=admin, program=program, email="nia@example.org")
    message = OutboundMail.objects.get()
    assert (message.recipient, message.status, message.attempts) == (
        "nia@example.org",
        "pending",
        0,
    )
    assert invitation.secret in message.body  # until it is sent
    [task] = delivery_tasks()
    assert task.status == "READY" and task.args_kwargs == {"args": [message.pk], "kwargs": {}}


@pytest.mark.django_db(transaction=True)
def test_nothing_is_enqueued_before_the_commit(database_tasks):
    with transaction.atomic():
        queued()
        assert delivery_tasks() == []  # a worker could not see the row yet
    assert len(delivery_tasks()) == 1


@pytest.mark.django_db
def test_delivered_once_then_its_body_is_erased(smtp, database_tasks):  # noqa: F811
    message = queued(body="the secret link")
    assert outbox.deliver(message.pk) == "sent"
    recipients, delivered = smtp.only()
    assert recipients == ["nia@example.org"] and "the secret link" in delivered.get_content()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.body, message.last_error) == (
        "sent",
        1,
        "",
        "",
    )
    assert message.sent_at is not None and message.claimed_until is None
    assert outbox.deliver(message.pk) == "skipped"  # a second task for it sends nothing
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_a_claimed_message_is_left_alone_until_the_claim_lapses(smtp, settings, database_tasks):  # noqa: F811
    settings.LEDGER_MAIL_LEASE_SECONDS = 60
    message = queued()
    with clock.frozen(T0):
        # Another worker holds it (claimed, sending, its lease running).
        OutboundMail.objects.filter(pk=message.pk).update(
            status=MailStatus.SENDING, attempts=1, claimed_until=T0 + dt.timedelta(seconds=60)
        )
        assert outbox.deliver(message.pk) == "skipped"
    with clock.frozen(T0 + dt.timedelta(seconds=59)):
        assert outbox.deliver(message.pk) == "skipped"
    with clock.frozen(T0 + dt.timedelta(seconds=61)):  # that worker died: taken over
        assert outbox.deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(smtp.messages) == 1


@pytest.mark.django_db
def test_a_retry_waits_for_its_time_a_new_message_does_not(smtp, database_tasks):  # noqa: F811
    retry, new = queued(to="retry@example.org"), queued(to="new@example.org")
    later = clock.now() + dt.timedelta(minutes=5)
    OutboundMail.objects.filter(pk=retry.pk).update(attempts=1, next_attempt_at=later)
    assert outbox.deliver(retry.pk) == "skipped"
    assert smtp.messages == []
    # A new message goes at once, even stamped a little ahead (a web server whose clock runs
    # ahead of the worker's).
    OutboundMail.objects.filter(pk=new.pk).update(next_attempt_at=later)
    assert outbox.deliver(new.pk) == "sent"
    assert [rcpt for rcpt, _ in smtp.messages] == [["new@example.org"]]


@pytest.mark.django_db
def test_failures_back_off_then_give_up_after_a_day(dead_smtp, database_tasks, settings, caplog):  # noqa: F811
    with clock.frozen(T0):
        message = queued(body="secret")
    moment, waits = T0, []
    with caplog.at_level(logging.WARNING):
        for attempt in range(1, settings.LEDGER_MAIL_ATTEMPTS):
            with clock.frozen(moment):
                assert outbox.deliver(message.pk) == "retry"
            message.refresh_from_db()
            assert (message.status, message.attempts) == ("pending", attempt)
            assert "Connection refused" in message.last_error
            assert message.body == "secret" and message.claimed_until is None
            # The next attempt is enqueued for then (the database backend defers it).
            assert delivery_tasks()[-1].run_after == message.next_attempt_at
            waits.append(message.next_attempt_at - moment)
            with clock.frozen(message.next_attempt_at - dt.timedelta(seconds=1)):
                assert outbox.deliver(message.pk) == "skipped"  # not yet
            moment = message.next_attempt_at
        with clock.frozen(moment):
            assert outbox.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.body) == (
        "failed",
        settings.LEDGER_MAIL_ATTEMPTS,
        "",
    )
    minute, hour = dt.timedelta(minutes=1), dt.timedelta(hours=1)
    assert waits[:4] == [minute, 2 * minute, 4 * minute, 8 * minute]  # growing
    assert waits[-1] == 6 * hour  # at most six hours apart
    assert sum(waits, dt.timedelta()) >= dt.timedelta(hours=24)  # tried for over a day
    given_up = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(given_up) == 1 and "given up after 13 attempts" in given_up[0].getMessage()
    assert "secret" not in caplog.text
    with clock.frozen(moment + dt.timedelta(days=2)):
        assert outbox.deliver(message.pk) == "skipped"  # failed is final


@pytest.mark.django_db
def test_a_fault_in_handing_over_is_retried_like_a_failure(database_tasks, monkeypatch, caplog):
    def broken(**_):
        raise UnicodeEncodeError("ascii", "x", 0, 1, "a fault of ours")

    monkeypatch.setattr(mail, "deliver", broken)
    with clock.frozen(T0):
        message = queued()
        with caplog.at_level(logging.ERROR, logger="ledger.background"):
            assert outbox.deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("UnicodeEncodeError")
    assert "could not be handed to the email backend" in caplog.text  # with its traceback


@pytest.mark.django_db
def test_a_message_whose_workers_keep_dying_is_given_up(smtp, database_tasks, settings):  # noqa: F811
    """A message that takes its worker down with it each time (its claim lapsing on every
    attempt) is not retried for ever."""
    message = queued(body="secret")
    OutboundMail.objects.filter(pk=message.pk).update(
        status="sending",
        attempts=settings.LEDGER_MAIL_ATTEMPTS,
        claimed_until=clock.now() - dt.timedelta(seconds=1),
    )
    assert outbox.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.body) == ("failed", "")
    assert "kept stopping" in message.last_error
    assert smtp.messages == []


@pytest.mark.django_db
def test_without_deferred_tasks_the_sweep_brings_the_retry(dead_smtp, settings):  # noqa: F811
    """On a backend that cannot defer a task (the immediate one here), the retry is not
    enqueued; the sweep enqueues it once it is due."""
    with clock.frozen(T0):
        message = queued()
        assert outbox.deliver(message.pk) == "retry"
    message.refresh_from_db()
    due = message.next_attempt_at
    settings.LEDGER_MAIL_SWEEP_GRACE_SECONDS = 0
    with clock.frozen(due - dt.timedelta(seconds=1)):
        assert outbox.sweep() == 0
    with clock.frozen(due):
        assert outbox.sweep() == 1  # and the immediate backend tried it again
    message.refresh_from_db()
    assert message.attempts == 2


@pytest.mark.django_db
def test_the_sweep_enqueues_lost_and_lapsed_messages_only(database_tasks, settings):
    settings.LEDGER_MAIL_SWEEP_GRACE_SECONDS = 60
    settings.LEDGER_MAIL_KEEP_DAYS = 30
    with clock.frozen(T0):
        lost = queued(to="lost@example.org")  # its enqueue never happened
        fresh = queued(to="fresh@example.org")
        later = queued(to="later@example.org")
        lapsed = queued(to="lapsed@example.org")
        held = queued(to="held@example.org")
        old_sent = queued(to="old@example.org")
    DBTaskResult.objects.all().delete()
    now = T0 + dt.timedelta(minutes=2)
    OutboundMail.objects.filter(pk=fresh.pk).update(next_attempt_at=now - dt.timedelta(seconds=30))
    OutboundMail.objects.filter(pk=later.pk).update(next_attempt_at=now + dt.timedelta(minutes=5))
    OutboundMail.objects.filter(pk=lapsed.pk).update(
        status="sending", claimed_until=now - dt.timedelta(minutes=5)
    )
    OutboundMail.objects.filter(pk=held.pk).update(
        status="sending", claimed_until=now + dt.timedelta(minutes=1)
    )
    OutboundMail.objects.filter(pk=old_sent.pk).update(
        status="sent", created_at=now - dt.timedelta(days=31)
    )
    with clock.frozen(now):
        assert outbox.sweep() == 2
    assert sorted(t.args_kwargs["args"][0] for t in delivery_tasks()) == [lost.pk, lapsed.pk]
    assert not OutboundMail.objects.filter(pk=old_sent.pk).exists()  # forgotten after 30 days


@pytest.mark.django_db(transaction=True)
def test_a_queue_that_is_down_loses_nothing(settings, admin, program, caplog):
    """Redis refusing the enqueue after commit: the change and its message are kept (logged,
    not raised), and the sweep enqueues the message once a queue takes it."""
    from tests.ops.servers import free_port

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{free_port()}/0"}}
    with caplog.at_level(logging.WARNING, logger="ledger.background"):
        invitation = services.invite(actor=admin, program=program, email="nia@example.org")
    assert "not enqueued (the sweep will)" in caplog.text
    message = OutboundMail.objects.get()
    assert (message.status, message.attempts) == ("pending", 0)
    assert invitation.secret in message.body

    settings.TASKS = DATABASE_TASKS  # a queue that answers
    settings.LEDGER_MAIL_SWEEP_GRACE_SECONDS = 0
    assert outbox.sweep() == 1
    assert [t.args_kwargs["args"] for t in delivery_tasks()] == [[message.pk]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_workers_send_a_message_once(smtp, database_tasks):  # noqa: F811
    message = queued()
    start, outcomes = threading.Barrier(6), []

    def worker():
        try:
            start.wait(10)
            outcomes.append(outbox.deliver(message.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 5
    assert len(smtp.messages) == 1


def test_mail_send_is_the_outbox():
    """`ledger.mail.send` stays the one entry point; it writes to the outbox."""
    import inspect

    assert "outbox.queue(" in inspect.getsource(mail.send)
