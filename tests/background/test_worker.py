"""The worker as a real process (`manage.py db_worker`, the database backend) against a real
SMTP server (aiosmtpd): a dead or hanging mail server never fails nor slows a request and the
message arrives once it is back; a worker killed mid-delivery is replaced and the message
arrives once; two workers never send a message twice; a scheduled slot runs once with two
workers ticking."""

import asyncio
import contextlib
import json
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django_tasks_db.models import DBTaskResult

from ledger import mail
from ledger.api.auth import issue_token
from ledger.background import outbox
from ledger.background.models import OutboundMail, ScheduledRun
from tests.background.processes import db_worker, eventually, silent_server, worker_env
from tests.conftest import make_program
from tests.factories import UserFactory
from tests.ops.servers import free_port, gunicorn, request
from tests.test_mail import SITE, Inbox

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks(settings):
    """This process enqueues into the database too, for the worker processes to run."""
    settings.TASKS = DATABASE_TASKS


def smtp_env(port, **extra):
    return worker_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, LEDGER_SITE_URL=SITE, **extra)


@contextlib.contextmanager
def smtp_server(handler, port):
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


class StallingInbox(Inbox):
    """Holds the first conversation after the recipient (before any content) until released."""

    def __init__(self):
        super().__init__()
        self.stalled, self.released = threading.Event(), threading.Event()
        self.conversations = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.conversations += 1
        if self.conversations == 1:
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"


def invite_over_http(base, token, program, email):
    """(status, seconds) of an invitation made through the API of a running server."""
    started = time.monotonic()
    status, _, body = request(
        "POST",
        f"{base}/api/v1/programs/{program.pk}/invitations/",
        json.dumps({"email": email}).encode(),
        Authorization=f"Bearer {token}",
        **{"Content-Type": "application/json"},
    )
    return status, time.monotonic() - started, body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", ["port closed", "server hangs"])
def test_a_dead_mail_server_never_fails_nor_slows_a_request_and_the_mail_comes_later(
    failure, tmp_path
):
    port, log, timeout = free_port(), tmp_path / "worker.log", 4
    env = smtp_env(port, EMAIL_TIMEOUT=timeout)
    admin = UserFactory(username="operator", is_superuser=True)
    program = make_program(admin)
    _, token = issue_token(user=admin, name="test")
    with contextlib.ExitStack() as dead:
        if failure == "server hangs":
            dead.enter_context(silent_server(port))
        with gunicorn(env) as base:
            assert request("GET", f"{base}/healthz")[0] == 200  # warm
            status, seconds, body = invite_over_http(base, token, program, "nia@example.org")
            assert status == 201, body
            # Sending in the request would wait EMAIL_TIMEOUT on a hanging server.
            assert seconds < timeout / 2, seconds
        # Nothing has tried the server yet: the message waits, with its task.
        assert list(OutboundMail.objects.values_list("status", "attempts")) == [("pending", 0)]
        assert DBTaskResult.objects.filter(status="READY").count() == 1

        with db_worker(smtp_env(port, EMAIL_TIMEOUT=timeout), log):
            eventually(
                lambda: not OutboundMail.objects.filter(last_error="").exists(),
                what="a failed first attempt",
                log=log,
            )
            errors = " ".join(OutboundMail.objects.values_list("last_error", flat=True))
            assert ("refused" if failure == "port closed" else "timed out") in errors
            dead.close()  # the mail server comes back
            with smtp_server(Inbox(), port) as inbox:
                eventually(lambda: len(inbox.messages) == 1, what="the retry", log=log)
                time.sleep(1)  # (nothing more arrives)
    recipients, message = inbox.only()
    assert recipients == ["nia@example.org"] and program.name in message["Subject"]
    assert f"{SITE}/invitations/" in message.get_content()
    sent = OutboundMail.objects.get()
    assert (sent.status, sent.body) == ("sent", "") and sent.attempts >= 2
    assert "Traceback" not in log.read_text()  # a dead server is not an error of the worker


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_is_replaced_and_the_mail_arrives_once(
    database_tasks, tmp_path
):
    port, log = free_port(), tmp_path / "worker.log"
    env = smtp_env(port, EMAIL_TIMEOUT=10, LEDGER_TEST_MAIL_LEASE=3)
    with smtp_server(StallingInbox(), port) as inbox:
        mail.send(to="nia@example.org", subject="Hello", body="Once, please.\n")
        message = OutboundMail.objects.get()
        with db_worker(env, log) as first:
            eventually(inbox.stalled.is_set, what="the first worker in conversation", log=log)
            first.kill()  # SIGKILL: no clean-up of any kind
            first.wait(10)
        inbox.released.set()
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("sending", 1)  # its claim outlives it
        task = DBTaskResult.objects.get(task_path="ledger.background.tasks.deliver_mail")
        assert task.status == "RUNNING"  # and so does its task, for ever

        with db_worker(env, log):
            # Once the claim lapses (3 s), the sweep enqueues it again and this worker sends.
            eventually(lambda: len(inbox.messages) == 1, what="the message, once", log=log)
            time.sleep(2)  # sweeps go on: nothing is sent again
        assert len(inbox.messages) == 1
        recipients, delivered = inbox.only()
        assert recipients == ["nia@example.org"] and "Once, please." in delivered.get_content()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.body) == ("sent", 2, "")
    assert inbox.conversations == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_a_message_twice(database_tasks, tmp_path):
    """Every message has two tasks (a duplicate, as a sweep racing the first enqueue makes),
    and two workers run them side by side: each message is sent once."""
    port, count = free_port(), 30
    env = smtp_env(port, EMAIL_TIMEOUT=10)
    with smtp_server(Inbox(), port) as inbox:
        for number in range(count):
            mail.send(to=f"artist{number}@example.org", subject=f"Message {number}", body="Hi\n")
        for message_id in OutboundMail.objects.values_list("id", flat=True):
            outbox.enqueue(message_id)
        assert DBTaskResult.objects.count() == 2 * count
        with (
            db_worker(env, tmp_path / "a.log", "--batch", "--no-schedule") as first,
            db_worker(env, tmp_path / "b.log", "--batch", "--no-schedule") as second,
        ):
            assert first.wait(120) == 0 and second.wait(120) == 0
    recipients = sorted(rcpt[0] for rcpt, _ in inbox.messages)
    assert recipients == sorted(f"artist{n}@example.org" for n in range(count))
    assert set(OutboundMail.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2 * count
    outcomes = DBTaskResult.objects.values_list("return_value", flat=True)
    assert sorted(set(outcomes)) == ["sent", "skipped"]
    workers = DBTaskResult.objects.values_list("worker_ids", flat=True)
    assert len({worker for ids in workers for worker in ids}) == 2  # both took part


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_slot_runs_once_with_two_workers_ticking(tmp_path):
    runs = tmp_path / "runs.txt"
    env = worker_env(LEDGER_TEST_JOB_LOG=str(runs))  # the job "record", every second
    with (
        db_worker(env, tmp_path / "a.log", "--tick=0.1") as first,
        db_worker(env, tmp_path / "b.log", "--tick=0.1") as second,
    ):
        eventually(
            lambda: ScheduledRun.objects.filter(job="record").count() >= 4,
            what="four slots",
            log=tmp_path / "a.log",
        )
        time.sleep(0.5)
        assert first.poll() is None and second.poll() is None
    slots = ScheduledRun.objects.filter(job="record")
    finished = DBTaskResult.objects.filter(
        task_path="ledger.background.tasks.run_job", args_kwargs__args__0="record"
    )
    lines = runs.read_text().splitlines()
    # Every claimed slot ran at most once, every run stands for its own slot.
    assert len(lines) == finished.filter(status="SUCCESSFUL").count() <= slots.count()
    assert len(lines) >= 3
    args = [tuple(task.args_kwargs["args"]) for task in finished]
    assert len(args) == len(set(args)) == slots.count()
    # The sweep ran too, as often as its own slots say.
    assert ScheduledRun.objects.filter(job="mail-sweep").count() >= 3
