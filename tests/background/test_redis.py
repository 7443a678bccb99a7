"""The Redis task backend (django-tasks-rq on RQ), as production runs it: a committed change
enqueues into Redis, `manage.py rqworker` delivers, RQ's scheduler brings the retry, and
`manage.py run_schedule` keeps the schedule. Needs the Redis at 127.0.0.1:6379 (skipped
without one, except in CI where it runs)."""

import importlib.util
import os
import secrets
import subprocess
import time

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured

from ledger import services
from ledger.background.models import OutboundMail, ScheduledRun
from tests.background.processes import worker_env
from tests.background.test_worker import smtp_server
from tests.conftest import make_program
from tests.factories import UserFactory
from tests.ops.helpers import ROOT, manage, production_env, settings_of
from tests.ops.servers import free_port, redis_or_skip
from tests.test_mail import SITE, Inbox

QUEUE = "rq:queue:default"


@pytest.fixture
def redis_url():
    """A database of the machine's Redis whose task queue is empty (RQ has no key prefix, so
    this run keeps to a database of its own rather than share one with another run)."""
    base = redis_or_skip().rsplit("/", 1)[0]
    for number in secrets.SystemRandom().sample(range(1, 16), 15):
        client = redis.Redis.from_url(f"{base}/{number}")
        if not client.exists(QUEUE) and not client.exists("rq:scheduled:default"):
            yield f"{base}/{number}"
            client.close()
            return
    pytest.fail("every Redis database 1-15 holds an RQ queue")


def rqworker(env, *args) -> subprocess.CompletedProcess:
    done = manage("rqworker", "default", "--burst", *args, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.django_db(transaction=True)
def test_mail_through_redis_and_rqworker(redis_url, settings):
    port = free_port()
    env = worker_env(
        LEDGER_TASK_BACKEND="redis",
        REDIS_URL=redis_url,
        LEDGER_CACHE_KEY_PREFIX="test-" + secrets.token_hex(4),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_TIMEOUT=5,
        LEDGER_SITE_URL=SITE,
    )
    # This process enqueues as a web server with that environment does (the settings it
    # computes: test_the_task_backend_comes_from_the_environment).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": redis_url}}
    queue = redis.Redis.from_url(redis_url)
    admin = UserFactory(username="operator", is_superuser=True)
    program = make_program(admin)
    services.invite(actor=admin, program=program, email="nia@example.org")
    message = OutboundMail.objects.get()
    assert queue.llen(QUEUE) == 1  # committed, its delivery waits in Redis

    # The mail server is down: the worker's attempt fails and RQ holds the retry.
    rqworker(env)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert queue.llen(QUEUE) == 0 and queue.zcard("rq:scheduled:default") == 1

    with smtp_server(Inbox(), port) as inbox:
        time.sleep(1.2)  # the retry falls due (a second, in the fast settings)
        rqworker(env, "--with-scheduler")  # the scheduler enqueues it, the worker sends it
    recipients, delivered = inbox.only()
    assert recipients == ["nia@example.org"] and program.name in delivered["Subject"]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.body) == ("sent", 2, "")

    # The schedule, for a worker that keeps none: run_schedule enqueues, rqworker runs.
    ticked = manage("run_schedule", "--once", env=env)
    assert ticked.returncode == 0 and "enqueued mail-sweep" in ticked.stdout, ticked.stderr
    assert queue.llen(QUEUE) == 1
    rqworker(env)
    assert ScheduledRun.objects.filter(job="mail-sweep").count() == 1
    assert queue.llen(QUEUE) == 0


def settings_under(monkeypatch, **env):
    """ledger/settings.py as a process with `env` (production) would compute it, evaluated
    here as a separate module: Django's own settings are untouched."""
    for key in [key for key in os.environ if key.startswith(("DJANGO_", "LEDGER_", "REDIS_"))]:
        monkeypatch.delenv(key)
    for key, value in (production_env() | env).items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("settings_probe", ROOT / "ledger/settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_task_backend_comes_from_the_environment(monkeypatch):
    default = settings_under(monkeypatch)
    assert default.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert "django_rq" not in default.INSTALLED_APPS
    apps = default.INSTALLED_APPS
    assert apps.index("ledger.background") < apps.index("django_tasks_db")  # our db_worker
    assert "prune-task-results" in default.LEDGER_SCHEDULE

    url = "redis://127.0.0.1:6379/3"
    on_redis = settings_under(monkeypatch, LEDGER_TASK_BACKEND="redis", REDIS_URL=url)
    assert on_redis.TASKS["default"]["BACKEND"] == "django_tasks_rq.RQBackend"
    assert on_redis.RQ_QUEUES["default"]["URL"] == url
    assert on_redis.RQ["JOB_CLASS"] == "django_tasks_rq.Job"  # plain `rqworker` runs tasks
    assert {"django_rq", "django_tasks_rq"} <= set(on_redis.INSTALLED_APPS)
    assert "prune-task-results" not in on_redis.LEDGER_SCHEDULE  # no task table to prune

    for wrong in ({"LEDGER_TASK_BACKEND": "redis"}, {"LEDGER_TASK_BACKEND": "celery"}):
        with pytest.raises(ImproperlyConfigured, match="LEDGER_TASK_BACKEND"):
            settings_under(monkeypatch, **wrong)


def test_a_real_process_reads_the_same(monkeypatch):
    env = {"LEDGER_TASK_BACKEND": "redis", "REDIS_URL": "redis://127.0.0.1:6379/3"}
    computed = settings_of(production_env(**env), ["TASKS", "RQ_QUEUES"])
    probe = settings_under(monkeypatch, **env)
    assert computed == {"TASKS": probe.TASKS, "RQ_QUEUES": probe.RQ_QUEUES}
