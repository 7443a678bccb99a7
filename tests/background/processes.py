"""Real worker processes for tests: `manage.py db_worker` on the test database, with the fast
clocks of `tests.background.fast_settings`, and helpers to wait for what they do."""

import contextlib
import socket
import subprocess
import time
from pathlib import Path

from tests.ops.helpers import PYTHON, ROOT, database_url, production_env

FAST_SETTINGS = "tests.background.fast_settings"


def worker_env(**extra) -> dict[str, str]:
    """A production environment on the test database, with the fast background settings."""
    defaults = {
        "DATABASE_URL": database_url(),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LEDGER_TASK_BACKEND": "database",
    }
    env = production_env(**(defaults | extra))
    return env | {"DJANGO_SETTINGS_MODULE": FAST_SETTINGS}


@contextlib.contextmanager
def db_worker(env, log: Path, *args):
    """A running `manage.py db_worker` writing to `log`; stopped (SIGTERM) after the block
    unless it has already ended."""
    with log.open("a") as out:
        process = subprocess.Popen(
            [PYTHON, "manage.py", "db_worker", "--no-startup-delay", "--interval=0.1", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def eventually(predicate, *, timeout=45.0, what="", log: Path | None = None):
    """Wait until `predicate()` is true; fail saying `what` (and the worker's log) if not."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            detail = log.read_text()[-4000:] if log and log.exists() else ""
            raise AssertionError(f"not within {timeout} s: {what}\n{detail}")
        time.sleep(0.1)


@contextlib.contextmanager
def silent_server(port: int):
    """A server that accepts connections on `port` (the kernel completes them) and never says
    a word: an SMTP server that hangs."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
        yield
