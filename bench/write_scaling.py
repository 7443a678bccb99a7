"""Posting throughput with 1, 2, 4 and 8 concurrent writers: on one program, and each on its own.

    createdb -h 127.0.0.1 -U postgres ledger_scale_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_scale_bench \\
        .venv/bin/python bench/write_scaling.py [--seconds 10] [--clients 1 2 4 8]

Every posting appends to its program's hash chain, and `journal.post_entry` takes the
program's `LedgerHead` row FOR UPDATE before anything else: one program's postings are written
one after another, whatever the number of clients. This bench measures that, in one run, so
both modes see the same machine: for each number of clients, that many writer PROCESSES (not
threads, which the GIL would serialise by itself) post grants through the service the API
uses (`services.record_payout(kind="grant")`, a treasurer paying a member 1.00) for a fixed
time, (a) all on ONE program (each to its own artist, so only the program's rows are shared),
then (b) each on its OWN program. Printed: postings per second in total, p50/p95 latency of a
posting as the client sees it, and lock waits, the mean number of this database's backends
found waiting on a lock (pg_stat_activity, sampled every 20 ms by this process), and how
busy the machine's CPUs were during the round (/proc/stat: every process, not only ours). Then
`verify_ledger` on the bench's programs: the chains the writers built must still verify.
PostgreSQL only: SQLite has one writer per database, so there is nothing to compare.
Figures in docs/SCALING.md.
"""

import argparse
import datetime as dt
import functools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger.settings")

from bench.load import cpu_times  # noqa: E402 (after the path is set)

print = functools.partial(print, flush=True)  # progress shows as it happens
AMOUNT_MINOR = 100  # a grant of 1.00: below any approval threshold, so it posts at once
SAMPLE_EVERY = 0.02  # seconds between lock-wait samples
_LOCK_WAITERS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def worker(program_id: int, artist_id: int, actor_id: int, seconds: float) -> None:
    """One client: post grants for `seconds` after the parent says go; print a JSON summary."""
    import django

    django.setup()
    from accounts.models import User
    from ledger import services
    from ledger.models import Program

    program = Program.objects.get(pk=program_id)
    artist = User.objects.get(pk=artist_id)
    actor = User.objects.get(pk=actor_id)

    def post() -> None:
        services.record_payout(
            actor=actor, artist=artist, program=program, amount_minor=AMOUNT_MINOR, kind="grant"
        )

    post()  # warm: the connection, the first compile of each query
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # go
    latencies = []
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        before = time.perf_counter()
        if before >= deadline:
            break
        post()
        latencies.append(time.perf_counter() - before)
    elapsed = time.perf_counter() - started
    sys.stdout.write(json.dumps({"elapsed": elapsed, "latencies": latencies}) + "\n")


def sample_lock_waits(stop: threading.Event, samples: list[int]) -> None:
    """Count this database's backends waiting on a lock, until `stop`; own connection."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            while not stop.is_set():
                cursor.execute(_LOCK_WAITERS)
                samples.append(cursor.fetchone()[0])
                stop.wait(SAMPLE_EVERY)
    finally:
        connection.close()


def run_round(pairs: list[tuple[int, int, int]], seconds: float) -> dict:
    """Start one writer per (program, artist, actor), let them all go at once, gather."""
    children = [
        subprocess.Popen(  # nosec B603 (this script, fixed arguments)
            [
                sys.executable,
                __file__,
                "--worker",
                *("--program", str(program), "--artist", str(artist), "--actor", str(actor)),
                *("--seconds", str(seconds)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for program, artist, actor in pairs
    ]
    for child in children:
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"A writer did not start (said {line!r}); see its error above.")
    samples: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample_lock_waits, args=(stop, samples))
    sampler.start()
    cpu_before = cpu_times()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            raise SystemExit(f"A writer failed (exit {child.returncode}); see its error above.")
        results.append(json.loads(out.strip().splitlines()[-1]))
    stop.set()
    sampler.join()
    cpu_after = cpu_times()
    busy = None
    if cpu_before and cpu_after and cpu_after[1] > cpu_before[1]:
        busy = (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1])
    latencies = sorted(value for result in results for value in result["latencies"])
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    return {
        "postings": len(latencies),
        "per_second": sum(len(r["latencies"]) / r["elapsed"] for r in results),
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": cuts[18] * 1000,
        "lock_waiters": statistics.fmean(samples) if samples else 0.0,
        "cpu_busy": busy,
    }


def setup(programs: int, clients: int):
    """`programs` programs, each with a rate card, a treasurer and `clients` member artists
    (the same artists in every program), through the services; returns (programs, artists,
    treasurers)."""
    from accounts.models import User
    from ledger import clock, services

    stamp = time.strftime("%H%M%S")
    admin, _ = User.objects.get_or_create(
        username="bench-scale-admin", defaults={"is_superuser": True}
    )
    artists = User.objects.bulk_create(
        [User(username=f"ws{stamp}-artist-{n}") for n in range(clients)]
    )
    treasurers = User.objects.bulk_create(
        [User(username=f"ws{stamp}-treasurer-{n}") for n in range(programs)]
    )
    made = []
    for n, treasurer in enumerate(treasurers):
        program = services.create_program(actor=admin, name=f"scale-{stamp}-{n}", currency="USD")
        services.add_rate_card(
            actor=admin,
            program=program,
            effective_from=clock.today() - dt.timedelta(days=30),
            hourly_rate_minor=4500,
            bounties={"low": 1000, "medium": 5000, "high": 20000, "critical": 50000},
        )
        services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
        for artist in artists:
            services.enroll_artist(actor=admin, program=program, artist=artist)
        made.append(program)
    return made, artists, treasurers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="posting time per round")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--program", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--artist", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--actor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.program, args.artist, args.actor, args.seconds)
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit(
            "This bench measures row locks between concurrent writers: it needs PostgreSQL "
            "(DATABASE_URL=postgres://...). SQLite admits one writer per database at a time."
        )
    call_command("migrate", verbosity=0)
    most = max(args.clients)
    programs, artists, treasurers = setup(most, most)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} UTC on {os.cpu_count()} cores, load average {load}; "
        f"{args.seconds:g} s per round; PostgreSQL {connection.pg_version // 10000}"
    )
    heading = ("clients", "mode", "postings/s", "p50 ms", "p95 ms", "lock waiters", "CPU busy")
    print("{:>7}  {:12} {:>10} {:>7} {:>7} {:>12} {:>8}".format(*heading))
    for clients in args.clients:
        for mode in ("one program", "own program"):
            pairs = [
                (
                    programs[0 if mode == "one program" else n].pk,
                    artists[n].pk,
                    treasurers[0 if mode == "one program" else n].pk,
                )
                for n in range(clients)
            ]
            round_ = run_round(pairs, args.seconds)
            print(
                f"{clients:>7}  {mode:12} {round_['per_second']:>10.0f} {round_['p50_ms']:>7.1f} "
                f"{round_['p95_ms']:>7.1f} {round_['lock_waiters']:>12.2f} "
                + (f"{round_['cpu_busy']:>8.0%}" if round_["cpu_busy"] is not None else "       -")
            )
    connection.close()  # the sampler's threads had their own; refresh ours after the rounds
    for program in programs:
        out = StringIO()
        call_command("verify_ledger", program=program.pk, stdout=out)
        print(out.getvalue().rstrip())


if __name__ == "__main__":
    main()
