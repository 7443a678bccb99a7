"""Load drill: 50 users of mixed artist and admin traffic for 2 minutes against
gunicorn and PostgreSQL; then zero errors and a clean verify_ledger are required.

    python bench/load.py [--users 50] [--minutes 2] [--workers 4]

Uses a throw-away database (ledger_load) on the local PostgreSQL, the project's .venv for the
app and bench/.venv-load for locust (made on first use). Only loopback traffic; bounded in
time. Prints p50/p95 per endpoint as a Markdown table (docs/RELIABILITY.md keeps a run).
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
LOAD_VENV = ROOT / "bench" / ".venv-load"
OUT = ROOT / "bench" / "out"
PG = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")
DB = "ledger_load"

PREPARE = """
import json
from accounts.models import User
from accounts.tokens import issue_token
admins = list(User.objects.with_staff_flag().filter(holds_staff_role=True))
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=8097)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not (LOAD_VENV / "bin" / "locust").exists():
        run(sys.executable, "-m", "venv", LOAD_VENV)
        run(LOAD_VENV / "bin" / "pip", "install", "-q", "locust==2.47.0")

    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{DB}",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_CONN_MAX_AGE="60",
        WEB_CONCURRENCY=str(args.workers),
        BIND=f"127.0.0.1:{args.port}",
    )
    run("psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB}")
    run("psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {DB}")
    run(PY, "manage.py", "migrate", "-v0", env=env, cwd=ROOT)
    run(PY, "manage.py", "seed_demo", env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    tokens = OUT / "load-tokens.json"
    run(PY, "manage.py", "shell", "-c", PREPARE.replace("TOKENS_FILE", repr(str(tokens))),
        env=env, cwd=ROOT)  # fmt: skip

    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "ledger.wsgi", "-c", "gunicorn.conf.py",
         "--access-logfile", "/dev/null"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        started = time.time()
        locust = subprocess.run(
            [str(LOAD_VENV / "bin" / "locust"), "-f", "bench/locustfile.py", "--headless",
             "-u", str(args.users), "-r", "10", "-t", f"{int(args.minutes * 60)}s",
             "--host", f"http://127.0.0.1:{args.port}", "--csv", str(OUT / "load"),
             "--only-summary", "--stop-timeout", "10"],
            env={**env, "LOAD_TOKENS": str(tokens)}, cwd=ROOT, check=False,
        )  # fmt: skip
        elapsed = time.time() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    verify = subprocess.run(
        [str(PY), "manage.py", "verify_ledger"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    print(verify.stdout)

    with open(OUT / "load_stats.csv") as stats:
        rows = list(csv.DictReader(stats))
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
    failed = failures or verify.returncode or locust.returncode
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
