"""Starting the production server (gunicorn with gunicorn.conf.py) in a test, and talking to it."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.ops.helpers import ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(method, url, body=None, **headers):
    """(status, headers, text) of one request; error statuses are answers, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - loopback http
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


@contextlib.contextmanager
def gunicorn(env, workers=1):
    """A running gunicorn on a free loopback port; yields its base URL, stops it after."""
    port = free_port()
    env = env | {"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    server = subprocess.Popen(
        [str(GUNICORN), "ledger.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not listen within 60 s"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def redis_or_skip() -> str:
    """The URL of the machine's Redis; outside CI a missing Redis skips the test, in CI
    (CI=true, where Redis runs beside PostgreSQL) it fails it."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            answered = sock.recv(16).startswith(b"+PONG")
    except OSError:
        answered = False
    if not answered:
        message = f"Redis did not answer at {REDIS_HOST}:{REDIS_PORT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message + "; the Redis cache test needs one")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
