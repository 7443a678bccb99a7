"""The documented production start: collectstatic, then gunicorn with gunicorn.conf.py."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.conftest import make_program
from tests.factories import UserFactory
from tests.ops.helpers import ROOT, database_url, manage, production_env
from tests.ops.servers import free_port

GUNICORN = Path(sys.executable).parent / "gunicorn"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url, **headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a loopback http URL
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_in_production_mode(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = production_env(
        DATABASE_URL=database_url(),
        DJANGO_STATIC_ROOT=tmp_path / "static",
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        DJANGO_CONN_MAX_AGE=60,
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=2,
    )
    migrated = manage("migrate", "--noinput", env=env)  # the start command's first step
    assert migrated.returncode == 0, migrated.stderr
    admin = UserFactory(is_superuser=True)
    make_program(admin)
    # Only this project's own files are collected here: compressing the admin's, DRF's and the
    # API docs' bundles (brotli at full strength) takes a minute, a deploy-time cost. The
    # storage, its manifest and the compressed copies are the production ones.
    ignore = ["admin", "rest_framework", "django_htmx", "drf_spectacular_sidecar"]
    collected = manage(
        "collectstatic", "--noinput", *(f"--ignore={name}" for name in ignore), env=env
    )
    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    hashed_css = manifest["css/error.css"]
    assert hashed_css != "css/error.css"
    assert (tmp_path / "static" / (hashed_css + ".gz")).exists()

    server = subprocess.Popen(
        [str(GUNICORN), "ledger.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                status, _, body = fetch(f"{base}/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
                time.sleep(0.2)
        assert (status, json.loads(body)) == (200, {"status": "ok"})

        status, headers, _ = fetch(f"{base}/admin/login/", Host="ledger.example.org")
        assert status == 301
        assert headers["Location"] == "https://ledger.example.org/admin/login/"

        https = {"Host": "ledger.example.org", "X-Forwarded-Proto": "https"}
        status, headers, body = fetch(f"{base}/healthz", **https)
        assert status == 200
        assert headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"

        status, headers, _ = fetch(f"{base}/static/{hashed_css}", **https)
        assert status == 200 and "immutable" in headers["Cache-Control"]

        status, _, body = fetch(f"{base}/no/such/page", **https)
        assert status == 404 and "Page not found" in body and "Traceback" not in body

        status, _, _ = fetch(
            f"{base}/healthz", Host="evil.example.com", **{"X-Forwarded-Proto": "https"}
        )
        assert status == 400  # not an allowed host

        if connection.vendor == "postgresql":
            # Every connection cut, as a PostgreSQL restart does: the workers reconnect.
            with psycopg.connect(database_url(), autocommit=True) as other:
                killed = other.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()[0]
            assert killed >= 1  # the workers' persistent connections (and this test's own)
            connection.close()
            for _ in range(6):  # enough to reach both workers
                assert fetch(f"{base}/healthz")[0] == 200
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert "Booting worker" in output
    assert "report figures" not in output  # start-up reads no program
    assert '"GET /healthz HTTP/1.1" 200' in output  # the access log goes to stdout


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, message, *args):
        self.lines.append(("info", message % args))

    def warning(self, message, *args):
        self.lines.append(("warning", message % args))


def _gunicorn_conf():
    import runpy

    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


@pytest.mark.django_db(transaction=True)
def test_master_reads_no_program_before_forking(admin, artist):
    """Start-up does not grow with the number of programs: `when_ready` reads nothing from the
    database (the report figures are stored there, shared by every server), and a report
    right after, in this process that kept nothing, reads the stored figures."""
    from django.test.utils import CaptureQueriesContext

    from ledger import queries, services
    from ledger.queries import report_cache
    from tests.conftest import accepted_work

    programs = [make_program(admin, currency=code) for code in ("USD", "EUR", "GBP")]
    for program in programs:
        services.enroll_artist(actor=admin, program=program, artist=artist)
        accepted_work(program, artist, admin)
        queries.program_report(program)  # an earlier server's report stores its figures
    server = type("Server", (), {"log": _Log()})()
    with CaptureQueriesContext(connection) as queried:
        _gunicorn_conf()["when_ready"](server)
    assert len(queried) == 0 and server.log.lines == []
    calls = []
    read = report_cache.read_artist_work
    report_cache.read_artist_work = lambda *a: calls.append(a) or read(*a)
    try:
        report = queries.program_report(programs[0])
    finally:
        report_cache.read_artist_work = read
    assert calls == [] and report.contributors == 1 and report.valued_minor == 9000


def test_master_starts_without_the_database(monkeypatch):
    """No database at start: nothing to warn about, start-up does not touch it."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    def down(self):
        raise RuntimeError("database down")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", down)
    server = type("Server", (), {"log": _Log()})()
    _gunicorn_conf()["when_ready"](server)
    assert server.log.lines == []


def test_master_imports_the_views_before_forking():
    """Workers, recycled ones too, fork with the URLconf and every view already imported."""
    from django.urls import clear_url_caches, get_resolver

    clear_url_caches()
    assert "url_patterns" not in vars(get_resolver())
    _gunicorn_conf()["when_ready"](type("Server", (), {"log": _Log()})())
    assert "url_patterns" in vars(get_resolver())
