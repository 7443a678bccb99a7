"""Running the project's own commands in subprocesses, with production settings."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def production_env(**extra) -> dict[str, str]:
    """The environment of a production process: DEBUG off, a long random key, a real host."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AXES_", "PYTEST_"))
    }
    env |= {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "ledger.example.org,127.0.0.1,localhost",
    }
    return env | {key: str(value) for key, value in extra.items()}


def database_url(name: str | None = None) -> str:
    """A URL for the database the tests are using (or another one on the same server)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{name or settings['NAME']}"
    user = settings["USER"] or ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name or settings['NAME']}"


def manage(*args, env, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def settings_of(env, names) -> dict:
    """Settings as a process with this environment computes them."""
    code = (
        "import json, sys, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}, default=str))"
    )
    result = subprocess.run(
        [PYTHON, "-c", code, *names],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "ledger.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)
