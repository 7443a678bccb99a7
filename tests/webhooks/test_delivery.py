"""What is sent, when, and how often: signed as Standard Webhooks says (checked with the
reference library), only after the change commits, in order per subscription through a
receiver's outage, under the same webhook-id on every retry, for more than 24 hours."""

import datetime as dt
import json

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ledger import clock, services
from ledger.services import imports
from ledger.webhooks import delivery, events
from ledger.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.api.roles_world import csv_upload
from tests.conftest import log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def subscribe(admin, program, url, events_=("contribution.accepted", "payout.paid")):
    return services.create_subscription(actor=admin, program=program, url=url, events=list(events_))


def verified(secret, received):
    """The body the reference library verifies, at the time the headers say it was signed."""
    return Webhook(secret).verify(received.body, received.headers)


def test_the_published_test_vector():
    """Standard Webhooks' published example, signed by the reference library and by ours."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    moment = dt.datetime.fromtimestamp(1614265330, dt.UTC)
    body = '{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", moment, body) == expected
    headers = delivery.signed_headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", body, moment)
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": expected,
    }


def test_accepted_work_and_a_paid_payout_reach_the_receiver_signed(
    insecure, receiver, admin, artist, program, django_capture_on_commit_callbacks
):
    subscription = subscribe(admin, program, receiver.url)
    work = log_feedback(program, artist, hours="2.00")  # submitted: not subscribed
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_contribution(contribution=work, actor=admin)
    with django_capture_on_commit_callbacks(execute=True):
        payout = services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
        )
    assert len(receiver.received) == 2
    accepted, paid = (verified(subscription.secret, r) for r in receiver.received)
    assert accepted["type"] == "contribution.accepted"
    assert accepted["data"] | {"submitted_at": None, "reviewed_at": None} == {
        "id": work.pk,
        "program": program.pk,
        "artist": artist.pk,
        "kind": "feedback",
        "title": work.title,
        "occurred_on": work.occurred_on.isoformat(),
        "hours": "2.00",
        "severity": None,
        "reference": "",
        "status": "accepted",
        "value": "90.00",
        "currency": "USD",
        "submitted_at": None,
        "reviewed_at": None,
    }
    assert paid["type"] == "payout.paid"
    assert paid["data"]["id"] == payout.pk and paid["data"]["amount"] == "50.00"
    assert paid["data"]["status"] == "paid"
    first = receiver.received[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"].startswith("artist-ledger-webhooks/")
    assert first.headers["webhook-id"].startswith("msg_")
    stored = WebhookDelivery.objects.get(webhook_id=first.headers["webhook-id"])
    assert first.body == stored.body.encode()
    assert (stored.status, stored.attempts, stored.last_status_code) == ("succeeded", 1, 204)
    assert list(stored.attempt_log.values_list("status_code", "error")) == [(204, "")]
    # A tampered body or another secret does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(services.webhooks.new_secret()).verify(first.body, first.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription.secret).verify(first.body.replace(b"90.00", b"99.00"), first.headers)


def test_each_service_emits_its_event(insecure, receiver, admin, artist, program):
    every = list(events.EVENT_TYPES)
    subscription = subscribe(admin, program, receiver.url, every)
    work = log_feedback(program, artist)
    services.accept_contribution(contribution=work, actor=admin)
    services.reverse_contribution(contribution=work, actor=admin, reason="Duplicate")
    rejected = services.reject_contribution(
        contribution=log_feedback(program, artist), actor=admin, reason="Out of scope"
    )
    dispute = services.open_dispute(
        actor=artist, subject=rejected, claim="rejection", statement="In scope."
    )
    reviewer, treasurer = UserFactory(), UserFactory()
    services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
    services.uphold_dispute(dispute=dispute, actor=reviewer, note="Right.")
    program = services.update_program(actor=admin, program=program, approval_threshold_minor=100)
    proposal = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=500, kind="grant"
    )
    services.approve_payout(payout=proposal, actor=treasurer)
    services.void_payout(payout=proposal, actor=admin, reason="Sent twice")
    sent = list(
        WebhookDelivery.objects.filter(subscription=subscription)
        .order_by("id")
        .values_list("event_type", flat=True)
    )
    assert sent == [
        "contribution.submitted",
        "contribution.accepted",
        "contribution.reversed",
        "contribution.submitted",
        "contribution.rejected",
        "dispute.opened",
        "contribution.accepted",  # the upheld rejection accepts the work
        "dispute.decided",
        "payout.proposed",
        "payout.paid",
        "payout.voided",
    ]


def test_only_active_subscriptions_of_the_program_to_that_event_get_a_delivery(
    insecure, receiver, admin, artist, program
):
    other = make_program(admin)
    mine = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    not_this_event = subscribe(admin, program, receiver.url, ["payout.paid"])
    elsewhere = subscribe(admin, other, receiver.url, ["contribution.submitted"])
    paused = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    paused.active = False
    paused.save(update_fields=["active"])
    log_feedback(program, artist)
    assert set(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == {mine.pk}
    assert not_this_event.deliveries.count() == elsewhere.deliveries.count() == 0


def test_a_rolled_back_change_sends_nothing(
    insecure, receiver, admin, artist, program, django_capture_on_commit_callbacks
):
    subscribe(admin, program, receiver.url, ["contribution.accepted"])
    work = log_feedback(program, artist)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.accept_contribution(contribution=work, actor=admin)
        assert WebhookDelivery.objects.count() == 1  # written inside the transaction
        raise RuntimeError("the change fails after the event was emitted")
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert receiver.received == []


def test_emit_many_writes_every_event_with_one_subscription_query(
    insecure, receiver, admin, program
):
    first = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    second = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    datas = [{"id": n} for n in range(2500)]
    with CaptureQueriesContext(connection) as queries:
        assert events.emit_many(program.pk, "contribution.submitted", datas) == 5000
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        # One COPY (through psycopg's own cursor, which the capture does not see).
        assert statements == ["SELECT"]
    else:
        assert statements[0] == "SELECT" and set(statements[1:]) == {"INSERT"}
        # Batched inserts (SQLite caps a statement's parameters), never one per row.
        assert len(statements) < 100
    for subscription in (first, second):
        bodies = subscription.deliveries.order_by("id").values_list("body", flat=True)
        assert [json.loads(b)["data"]["id"] for b in bodies] == list(range(2500))
    assert WebhookDelivery.objects.values("webhook_id").distinct().count() == 5000


def test_an_import_reports_each_contribution_it_creates(
    insecure, receiver, admin, artist, program, django_capture_on_commit_callbacks
):
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    day = clock.today().isoformat()
    rows = "".join(f"{artist.username},feedback,Notes {n},{day},1,,IMP-{n},\n" for n in range(3))
    job = imports.start_import(actor=admin, program=program, upload=csv_upload(rows), dry_run=False)
    with django_capture_on_commit_callbacks(execute=True):
        imports.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.created) == ("succeeded", 3)
    sent = [verified(subscription.secret, r) for r in receiver.received]
    assert [(b["type"], b["data"]["reference"]) for b in sent] == [
        ("contribution.submitted", f"IMP-{n}") for n in range(3)
    ]
    assert {b["data"]["artist"] for b in sent} == {artist.pk}
    again = imports.start_import(actor=admin, program=program, upload=csv_upload(rows))
    with django_capture_on_commit_callbacks(execute=True):
        imports.run(again.pk)
    assert len(receiver.received) == 3  # a re-import creates nothing, so reports nothing


def test_no_subscription_costs_one_statement(admin, program, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert events.emit(program.pk, "payout.paid", {"id": 1}) == 0


def moved(seconds):
    return clock.frozen(clock.now() + dt.timedelta(seconds=seconds))


def run_line(subscription, at):
    with clock.frozen(at):
        return delivery.deliver_subscription(subscription.pk)


def test_a_receiver_down_for_a_while_gets_every_event_in_order_under_the_same_ids(
    insecure, receiver, admin, artist, program
):
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    receiver.stop()  # down: nothing listens
    start = clock.now()
    works = [log_feedback(program, artist) for _ in range(3)]
    line = list(subscription.deliveries.order_by("id"))
    assert run_line(subscription, start) == "waiting"
    head = WebhookDelivery.objects.get(pk=line[0].pk)
    assert (head.status, head.attempts) == ("pending", 1)
    assert head.next_attempt_at == start + dt.timedelta(seconds=5)
    # The others wait behind the head, untried.
    assert WebhookDelivery.objects.filter(pk__in=[d.pk for d in line[1:]], attempts=0).count() == 2
    assert run_line(subscription, start + dt.timedelta(seconds=4)) == "waiting"  # not due yet
    assert WebhookDelivery.objects.get(pk=head.pk).attempts == 1
    receiver.start()
    receiver.status = 503  # up, but failing
    assert run_line(subscription, start + dt.timedelta(seconds=5)) == "waiting"
    head.refresh_from_db()
    assert (head.attempts, head.last_status_code) == (2, 503)
    second = django_settings.LEDGER_WEBHOOKS_RETRY_SECONDS[1]
    assert head.next_attempt_at == start + dt.timedelta(seconds=5 + second)
    receiver.status = 200  # back
    assert run_line(subscription, start + dt.timedelta(seconds=5 + second)) == "done"
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids == [line[0].webhook_id, line[0].webhook_id, line[1].webhook_id, line[2].webhook_id]
    sent = [json.loads(r.body)["data"]["id"] for r in receiver.received[1:]]
    assert sent == [w.pk for w in works]
    for r in receiver.received:  # the same bytes on every attempt, each signed when sent
        stamp = dt.datetime.fromtimestamp(int(r.headers["webhook-timestamp"]), dt.UTC)
        body = r.body.decode()
        expected = Webhook(subscription.secret).sign(r.headers["webhook-id"], stamp, body)
        assert r.headers["webhook-signature"] == expected
    assert receiver.received[0].body == receiver.received[1].body
    log = list(WebhookAttempt.objects.filter(delivery=head).order_by("id"))
    assert [a.status_code for a in log] == [None, 503, 200]
    assert "Connection" in log[0].error and log[1].error == "HTTP 503" and log[2].error == ""
    assert set(subscription.deliveries.values_list("status", flat=True)) == {"succeeded"}


def test_the_schedule_spans_more_than_a_day_then_the_line_moves_on(
    insecure, receiver, admin, artist, program, caplog
):
    delays = django_settings.LEDGER_WEBHOOKS_RETRY_SECONDS
    assert sum(delays) >= 24 * 3600 and delays == sorted(delays)
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    receiver.status = 500
    log_feedback(program, artist)
    log_feedback(program, artist)
    head, behind = subscription.deliveries.order_by("id")
    at = clock.now()
    for delay in delays:
        assert run_line(subscription, at) == "waiting"
        head.refresh_from_db()
        assert head.next_attempt_at == at + dt.timedelta(seconds=delay)
        at = head.next_attempt_at
    receiver.status = 200
    with caplog.at_level("INFO", logger="ledger.webhooks"):
        receiver_outcomes = run_line(subscription, at)  # the last attempt fails (500 → 200?)
    assert receiver_outcomes == "done"
    head.refresh_from_db()
    behind.refresh_from_db()
    # The last attempt was answered 200: the head succeeded after all, then the next went.
    attempts = len(delays) + 1
    assert (head.status, head.attempts, behind.status) == ("succeeded", attempts, "succeeded")
    assert len({r.headers["webhook-id"] for r in receiver.received[:attempts]}) == 1


def test_after_the_last_attempt_a_delivery_fails_and_the_next_goes(
    insecure, receiver, admin, artist, program, caplog
):
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    receiver.status = 500
    log_feedback(program, artist)
    log_feedback(program, artist)
    head, behind = subscription.deliveries.order_by("id")
    at = clock.now()
    for _ in django_settings.LEDGER_WEBHOOKS_RETRY_SECONDS:
        run_line(subscription, at)
        head.refresh_from_db()
        at = head.next_attempt_at
    with caplog.at_level("INFO", logger="ledger.webhooks"):
        assert run_line(subscription, at) == "waiting"  # the next one's first retry
    head.refresh_from_db()
    behind.refresh_from_db()
    attempts = len(django_settings.LEDGER_WEBHOOKS_RETRY_SECONDS) + 1
    assert (head.status, head.attempts, head.last_status_code) == ("failed", attempts, 500)
    assert head.shown_next_attempt_at is None
    assert (behind.status, behind.attempts) == ("pending", 1)
    assert receiver.received[-1].headers["webhook-id"] == behind.webhook_id
    # Expected outcomes of a receiver: logged as such, never as an error with a traceback.
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert any(f"failed after {attempts} attempts" in r.getMessage() for r in caplog.records)


def test_redeliver_sends_again_under_the_same_id_with_a_whole_schedule(
    insecure, receiver, admin, artist, program, django_capture_on_commit_callbacks
):
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    with django_capture_on_commit_callbacks(execute=True):
        log_feedback(program, artist)
    (sent,) = subscription.deliveries.all()
    assert sent.status == "succeeded"
    receiver.status = 502
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(actor=admin, delivery=sent)
    sent.refresh_from_db()
    assert (sent.status, sent.attempts, sent.schedule_from) == ("pending", 2, 1)
    assert sent.next_attempt_at > clock.now()  # the schedule's first wait, not its end
    assert [r.headers["webhook-id"] for r in receiver.received] == [sent.webhook_id] * 2
    assert receiver.received[0].body == receiver.received[1].body


def test_two_workers_never_send_one_delivery_and_a_dead_workers_claim_lapses(
    insecure, receiver, admin, artist, program
):
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    log_feedback(program, artist)
    (head,) = subscription.deliveries.all()
    now = clock.now()
    # A worker claimed it and died before any outcome.
    WebhookDelivery.objects.filter(pk=head.pk).update(
        status=DeliveryStatus.SENDING, claimed_until=now + dt.timedelta(seconds=60), attempts=1
    )
    assert run_line(subscription, now) == "busy"
    assert delivery.attempt(head, now) == "skipped"  # a stale read cannot claim it either
    assert receiver.received == []
    with moved(0):
        assert delivery.sweep() == 0  # the claim still holds
    later = now + dt.timedelta(seconds=61)
    with clock.frozen(later):
        assert delivery.sweep() == 1  # enqueued: run at once by the immediate backend
    head.refresh_from_db()
    assert (head.status, head.attempts) == ("succeeded", 2)
    assert len(receiver.received) == 1


def test_the_sweep_enqueues_lost_work_and_forgets_old_deliveries(
    insecure, receiver, admin, artist, program
):
    subscription = subscribe(admin, program, receiver.url, ["contribution.submitted"])
    log_feedback(program, artist)  # its enqueue is lost: no commit in this test
    (lost,) = subscription.deliveries.all()
    assert delivery.sweep() == 0  # not overdue yet: its task may still be on the way
    with moved(django_settings.LEDGER_WEBHOOKS_SWEEP_GRACE_SECONDS + 1):
        assert delivery.sweep() == 1
    lost.refresh_from_db()
    assert lost.status == "succeeded"
    with moved(django_settings.LEDGER_WEBHOOKS_KEEP_DAYS * 86400 + 1):
        delivery.sweep()
    assert not WebhookDelivery.objects.exists() and not WebhookAttempt.objects.exists()


def test_the_deadlines_automatic_acceptance_is_reported_once(
    insecure, receiver, admin, artist, program
):
    program = services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    subscription = subscribe(admin, program, receiver.url, ["contribution.accepted"])
    with clock.frozen(clock.now() - dt.timedelta(days=20)):
        overdue = log_feedback(program, artist)
    assert services.apply_deadlines().accepted == [overdue.pk]
    services.apply_deadlines()  # nothing more to accept, nothing more to report
    (reported,) = subscription.deliveries.all()
    data = json.loads(reported.body)["data"]
    assert (data["id"], data["status"], data["value"]) == (overdue.pk, "accepted", "90.00")
