"""Gunicorn settings for production, read from the environment.

    .venv/bin/gunicorn ledger.wsgi -c gunicorn.conf.py

| variable          | default                         |
|-------------------|---------------------------------|
| BIND              | 127.0.0.1:$PORT (e.g. 0.0.0.0:8000 in a container) |
| PORT              | 8000                            |
| WEB_CONCURRENCY   | 2 × CPU cores + 1, at most 12   |
| GUNICORN_TIMEOUT  | 35 (seconds a request may take) |
| FORWARDED_ALLOW_IPS | 127.0.0.1,::1 (gunicorn's own; proxies trusted for X-Forwarded-*) |

Mail and scheduled jobs are not gunicorn's: run the background worker beside it, with the same
environment (docs/OPERATIONS.md, "Background work"):

    .venv/bin/python manage.py db_worker        # LEDGER_TASK_BACKEND=database, the default
    .venv/bin/python manage.py rqworker --with-scheduler default  # and `run_schedule`, on Redis
"""

import multiprocessing
import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 12))
# gunicorn's sync worker, but the requests it refuses itself get a short plain-text answer.
worker_class = "ledger.gunicorn_worker.PlainErrorWorker"
# A request longer than this is killed (PostgreSQL's statement_timeout, 30 s by default, ends
# the query first, so the transaction is rolled back rather than cut).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "35"))
graceful_timeout = 30
keepalive = 5

# Load the app once in the master: a broken deploy fails at start, workers fork faster.
preload_app = True
# Recycle workers now and then (bounded memory growth), staggered so they never all restart.
max_requests = 1000
max_requests_jitter = 100

# Logs to stdout/stderr for the service manager to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Request size limits against oversized headers (bodies are limited by Django's settings): over
# them, 414 or 431 (or 400) in plain text. A body must come with Content-Length: a chunked
# one is refused with 411 by the app (ledger.api.middleware.RequireContentLengthMiddleware).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


def when_ready(server):
    """Before the workers are forked, import the URLconf (every view and serializer) in the
    master, so workers (also those replacing recycled ones) inherit it: a worker's first
    request no longer spends ~250 ms of CPU importing the views, once per ~1,000 requests
    (`max_requests`). Nothing is read from the database: the report figures are stored there,
    shared by every server (ledger/queries/report_cache.py), so start-up does not grow with
    the number of programs."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import is the point)
