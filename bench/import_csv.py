"""Time and peak memory of a bulk import of contributions from CSV, on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres ledger_import_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_import_bench \\
        .venv/bin/python bench/import_csv.py --rows 10000 100000

For each size, in a fresh child process (so one run's memory does not count in the next):
a new program with 200 member artists and a rate card, a generated CSV file of that many rows
(feedback and bug reports spread over the artists, each with a reference), then through the
real path: `imports.start_import` (the request's part: row count, the file stored in 1 MiB
chunks), the worker's `imports.run` for a dry run, again for the import, and once more for a
re-import of the same file (every row skipped). With `--subscribers N`, N webhook
subscriptions to `contribution.submitted` hear of every row created (their deliveries are
written in the import's transaction; nothing is sent here). Prints elapsed time, rows per
second and the process's peak resident memory (ru_maxrss) before and after; figures in
docs/PERFORMANCE.md.
The enqueued tasks are not run by a worker here: the bench calls what the task calls.
"""

import argparse
import datetime as dt
import functools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger.settings")

print = functools.partial(print, flush=True)  # progress shows as it happens
ARTISTS = 200
HEADER = "artist,kind,title,occurred_on,hours,severity,reference,description\n"
SEVERITIES = ("low", "medium", "high", "critical")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def write_csv(path: Path, rows: int, prefix: str, day: dt.date) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            artist = f"{prefix}-{n % ARTISTS}"
            occurred = (day - dt.timedelta(days=n % 300)).isoformat()
            if n % 4:
                hours = f"{1 + n % 8}.{(n * 25) % 100:02d}"
                out.write(f"{artist},feedback,Play-test session {n},{occurred},{hours},,PT-{n},\n")
            else:
                severity = SEVERITIES[n // 4 % 4]
                out.write(
                    f"{artist},bug_report,Crash in level {n},{occurred},,{severity},BUG-{n},"
                    "Steps to reproduce in the tracker\n"
                )


def child(rows: int, subscribers: int) -> None:
    os.environ["LEDGER_WEBHOOKS_ALLOW_INSECURE"] = "true"  # a local receiver's address
    import django

    django.setup()
    from django.core.files.uploadedfile import UploadedFile
    from django.core.management import call_command

    from accounts.models import User
    from ledger import clock, services
    from ledger.models import Contribution, ImportJob
    from ledger.services import imports

    call_command("migrate", verbosity=0)
    stamp = time.strftime("%H%M%S")
    admin, _ = User.objects.get_or_create(
        username="bench-import-admin", defaults={"is_superuser": True}
    )
    program = services.create_program(actor=admin, name=f"import-{rows}-{stamp}", currency="USD")
    services.add_rate_card(
        actor=admin,
        program=program,
        effective_from=clock.today() - dt.timedelta(days=400),
        hourly_rate_minor=4500,
        bounties={"low": 1000, "medium": 5000, "high": 20000, "critical": 50000},
    )
    for n in range(subscribers):
        services.create_subscription(
            actor=admin,
            program=program,
            url=f"http://127.0.0.1:9/bench-{n}",
            events=["contribution.submitted"],
        )
    prefix = f"bi{rows}-{stamp}"
    User.objects.bulk_create([User(username=f"{prefix}-{i}") for i in range(ARTISTS)])
    for user in User.objects.filter(username__startswith=f"{prefix}-"):
        services.enroll_artist(actor=admin, program=program, artist=user)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "work.csv"
        write_csv(path, rows, prefix, clock.today() - dt.timedelta(days=1))
        size = path.stat().st_size
        print(
            f"{rows:,} rows, {size / 2**20:.1f} MiB, {subscribers} webhook subscriber(s); "
            f"peak RSS before: {peak_mb():.0f} MiB"
        )
        for label, dry_run in (("dry run", True), ("import", False), ("re-import", False)):
            with path.open("rb") as handle:
                upload = UploadedFile(handle, name="work.csv", size=size)
                started = time.perf_counter()
                job = imports.start_import(
                    actor=admin, program=program, upload=upload, dry_run=dry_run
                )
                stored = time.perf_counter() - started
            started = time.perf_counter()
            status = imports.run(job.pk)
            elapsed = time.perf_counter() - started
            job = ImportJob.objects.get(pk=job.pk)
            print(
                f"  {label:9} {status:9} upload {stored:5.2f} s, worker {elapsed:6.2f} s "
                f"({rows / elapsed:8,.0f} rows/s); would create {job.would_create:,}, "
                f"created {job.created:,}, skipped {job.skipped:,}; peak RSS {peak_mb():.0f} MiB"
            )
        assert Contribution.objects.filter(program=program).count() == rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--subscribers", type=int, default=0, help="webhook subscriptions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows[0], args.subscribers)
        return
    print(f"{time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, {os.environ['DATABASE_URL']}")
    subscribers = ("--subscribers", str(args.subscribers))
    for rows in args.rows:
        subprocess.run(  # nosec B603 (this script, fixed arguments)
            [*(sys.executable, __file__, "--child", "--rows", str(rows)), *subscribers],
            check=True,
        )


if __name__ == "__main__":
    main()
