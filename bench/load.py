"""Load drill: 50 users of mixed artist and admin traffic for 2 minutes against
gunicorn and PostgreSQL; then zero errors and a clean verify_ledger are required.

    python bench/load.py [--users 50] [--minutes 2] [--workers 4]

Uses a throw-away database (ledger_load) on the local PostgreSQL, the project's .venv for the
app and bench/.venv-load for locust (made on first use). Only loopback traffic; bounded in
time. Prints p50/p95 per endpoint as a Markdown table (docs/RELIABILITY.md keeps a run).
The steps are functions that bench/scale.py (several servers behind a load balancer) reuses;
both stay standard-library only, so they run with any python3.
"""

import argparse
import csv
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
# The production server as gunicorn.conf.py configures it, without the access log (its lines
# would cost the machine under load as much as some endpoints).
SERVE = [
    str(ROOT / ".venv" / "bin" / "gunicorn"), "ledger.wsgi", "-c", "gunicorn.conf.py",
    "--access-logfile", "/dev/null",
]  # fmt: skip
LOAD_VENV = ROOT / "bench" / ".venv-load"
LOCUST_VERSION = "2.47.0"
OUT = ROOT / "bench" / "out"
PG = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
DB = "ledger_load"

PREPARE = """
import json
from accounts.models import User
from accounts.tokens import issue_token
# Admins review and pay in every program: operators (superusers) hold every role there; a
# program's reviewer, treasurer or auditor alone would be refused half the admin tasks.
admins = list(User.objects.filter(is_superuser=True))
for i in range(1, 5):
    admins.append(
        User.objects.get_or_create(username=f"load-{i}", defaults={"is_superuser": True})[0]
    )
artists = User.objects.with_staff_flag().filter(
    holds_staff_role=False, is_superuser=False, memberships__isnull=False
).distinct()
tokens = {"admins": [issue_token(user=u, name="load")[1] for u in admins],
          "artists": [issue_token(user=u, name="load")[1] for u in artists]}
with open(TOKENS_FILE, "w") as out:
    json.dump(tokens, out)
"""


def run(*cmd, env=None, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, env=env, **kw)


def ensure_locust() -> Path:
    """bench/.venv-load/bin/locust, installed on first use (never into the project's venv)."""
    if not (LOAD_VENV / "bin" / "locust").exists():
        run(sys.executable, "-m", "venv", LOAD_VENV)
        run(LOAD_VENV / "bin" / "pip", "install", "-q", f"locust=={LOCUST_VERSION}")
    return LOAD_VENV / "bin" / "locust"


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production app process (DEBUG off, a random key) on loopback."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_CONN_MAX_AGE="60",
    )
    env.update(extra)
    return env


def prepare_database(pg: str, db: str, env: dict, tokens: Path) -> None:
    """A fresh database: migrate, the demo data, and API tokens (for every artist, the staff
    and four more admins) written to `tokens` for the locustfile."""
    run("psql", f"{pg}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    run("psql", f"{pg}/postgres", "-qc", f"CREATE DATABASE {db}")
    run(PY, "manage.py", "migrate", "-v0", env=env, cwd=ROOT)
    run(PY, "manage.py", "seed_demo", env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    run(PY, "manage.py", "shell", "-v0", "-c", PREPARE.replace("TOKENS_FILE", repr(str(tokens))),
        env=env, cwd=ROOT)  # fmt: skip


def wait_healthy(url: str, seconds: float = 60, process=None) -> None:
    """Until `url` (a /healthz) answers 200; raises if it does not in time or `process` dies."""
    deadline = time.monotonic() + seconds
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer 200 within {seconds:.0f} s")
        time.sleep(0.5)


def run_locust(host, users, minutes, csv_prefix, tokens, env, spawn_rate=10, **kw):
    """The scenario (bench/locustfile.py) headless against `host`; (returncode, seconds)."""
    started = time.time()
    locust = subprocess.run(
        [str(ensure_locust()), "-f", "bench/locustfile.py", "--headless",
         "-u", str(users), "-r", str(spawn_rate), "-t", f"{int(minutes * 60)}s",
         "--host", host, "--csv", str(csv_prefix), "--only-summary", "--stop-timeout", "10"],
        env={**env, "LOAD_TOKENS": str(tokens)}, cwd=ROOT, check=False, **kw,
    )  # fmt: skip
    return locust.returncode, time.time() - started


def read_stats(csv_prefix) -> list[dict]:
    """Locust's per-endpoint rows (the last one is "Aggregated")."""
    with open(f"{csv_prefix}_stats.csv") as stats:
        return list(csv.DictReader(stats))


def verify_ledger(env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PY), "manage.py", "verify_ledger"], env=env, cwd=ROOT, capture_output=True, text=True
    )


def cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat; None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=8097)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_locust()

    env = app_env(f"{PG}/{DB}", WEB_CONCURRENCY=str(args.workers), BIND=f"127.0.0.1:{args.port}")
    tokens = OUT / "load-tokens.json"
    prepare_database(PG, DB, env, tokens)

    server = subprocess.Popen(SERVE, env=env, cwd=ROOT)
    try:
        wait_healthy(f"http://127.0.0.1:{args.port}/healthz", process=server)
        returncode, elapsed = run_locust(
            f"http://127.0.0.1:{args.port}", args.users, args.minutes, OUT / "load", tokens, env
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    verify = verify_ledger(env)
    print(verify.stdout)

    rows = read_stats(OUT / "load")
    print(f"\n{args.users} users, {elapsed:.0f} s, gunicorn {args.workers} workers, PostgreSQL\n")
    print("| endpoint | requests | failures | p50 ms | p95 ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['Type']} {row['Name']} | {row['Request Count']} | {row['Failure Count']} "
            f"| {row['50%']} | {row['95%']} | {float(row['Requests/s']):.1f} |"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    failures = int(total["Failure Count"])
    print(f"\nfailures: {failures}; verify_ledger exit {verify.returncode}")
    failed = failures or verify.returncode or returncode
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
