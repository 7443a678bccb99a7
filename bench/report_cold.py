#!/usr/bin/env python3
"""The first transparency report of a fresh process, with the shared report figures stored
and with none, and gunicorn's start-up against the number of programs.

    python3 bench/report_cold.py --build --db ledger_bench_report   # once: ~900k postings
    python3 bench/report_cold.py --db ledger_bench_report           # measure

Runs in bench/.venv (bench/run.py makes it). `--build` drops and re-creates the database and
builds one program of `--postings` postings and `--artists` members (bench/dataset.py), plus
`--programs` - 1 small ones (for the start-up measurement). Without `--build` the database is
migrated (new migrations only) and measured as it is:

1. first report of a fresh process, store populated: a child process (python, Django set
   up, nothing else) times its first `program_report` of the big program, after an earlier
   process left the figures in the shared store (`ledger/queries/report_cache.py`);
2. first report of a fresh process, store empty: the same after the store is emptied (the
   child computes every artist's figures and stores them);
3. gunicorn (1 worker) from spawn to its first answer of /healthz, on this database and on
   each `--startup-db` (e.g. one with a single small program), with this code and with the
   checkout `--before` (e.g. one whose master read every program's figures before forking).

Each child is timed `--rounds` times; the median and the range are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import DEFAULT_SERVER, VENV, recreate_database, settle_database  # noqa: E402

BIG = "Bench report"


def _env(url: str) -> dict:
    return os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_PG_STATEMENT_TIMEOUT_MS": "0",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-report-cold"),
    }


def _setup(url: str) -> None:
    os.environ.update(_env(url))
    import django

    django.setup()


def build(url: str, postings: int, artists: int, programs: int) -> None:
    _setup(url)
    from bench.dataset import build_program

    t = time.perf_counter()
    big = build_program(postings=postings, artists=artists, seed=2, name=BIG)
    print(f"bench: built {big.postings} postings in {time.perf_counter() - t:.1f} s", flush=True)
    for i in range(programs - 1):
        build_program(
            postings=2000, artists=20, seed=100 + i, name=f"Bench small {i}", admin=big.admin
        )
    settle_database()


def child(url: str) -> None:
    """One fresh process: the first report of the big program, timed; JSON on stdout."""
    started = time.perf_counter()
    _setup(url)
    from ledger import queries
    from ledger.models import Program
    from ledger.queries import report_cache

    calls = []
    read = report_cache.read_artist_work

    def counted(program, artist_ids=None):
        calls.append(None if artist_ids is None else len(artist_ids))
        return read(program, artist_ids)

    report_cache.read_artist_work = counted
    program = Program.objects.get(name=BIG)
    t = time.perf_counter()
    report = queries.program_report(program)
    first = time.perf_counter() - t
    t = time.perf_counter()
    queries.program_report(program)
    second = time.perf_counter() - t
    print(
        json.dumps(
            {
                "first_s": first,
                "second_s": second,
                "process_s": time.perf_counter() - started,
                "recomputed": calls,
                "contributors": report.contributors,
                "median_days": str(report.median_days_to_payment),
            }
        )
    )


def _run_child(url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--url", url],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _empty_store(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM ledger_reportartistfigures")
        conn.execute("DELETE FROM ledger_reportfigures")


def _program_ids(url: str) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM ledger_program ORDER BY id")]


def _gunicorn_start(url: str, code: Path = ROOT) -> float:
    """Seconds from spawning gunicorn (1 worker, the gunicorn.conf.py of `code`) to its first
    answer of /healthz."""
    import urllib.error
    import urllib.request

    from bench.run import _free_port

    port = _free_port()
    env = _env(url) | {
        "WEB_CONCURRENCY": "1",
        "BIND": f"127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "ledger.settings",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    t = time.perf_counter()
    server = subprocess.Popen(
        [str(VENV / "bin" / "gunicorn"), "ledger.wsgi", "-c", "gunicorn.conf.py"],
        cwd=code,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = t + 120
        while time.perf_counter() < deadline:
            assert server.poll() is None, "gunicorn exited"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30):
                    return time.perf_counter() - t
            except (OSError, urllib.error.URLError):
                time.sleep(0.01)
        raise TimeoutError("gunicorn did not answer within 120 s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def startup(urls: dict[str, str], rounds: int, before: Path | None) -> dict:
    """gunicorn's start-up on each database of `urls` (name → URL), with this code and, if
    given, with the code of `before` (another checkout, e.g. one whose master read every
    program's report figures before forking)."""
    import psycopg

    programs = {}
    for name, url in urls.items():
        with psycopg.connect(url) as conn:
            programs[name] = conn.execute("SELECT count(*) FROM ledger_program").fetchone()[0]
    runs = [
        (name, label, code)
        for name in urls
        for label, code in (("now", ROOT), ("before", before))
        if code
    ]
    times: dict[tuple[str, str], list[float]] = {(name, label): [] for name, label, _ in runs}
    for _ in range(rounds):  # alternating, so that a busy moment of the machine hits them all
        for name, label, code in runs:
            times[(name, label)].append(_gunicorn_start(urls[name], code))
    results = {}
    for (name, label), values in times.items():
        results[f"{name}/{label}"] = {
            "programs": programs[name],
            "median_s": statistics.median(values),
        }
        print(
            f"gunicorn start-up to first answer, {name} ({programs[name]} programs), code {label}: "
            f"median {fmt(statistics.median(values))} (min {fmt(min(values))}, "
            f"max {fmt(max(values))}, {rounds} starts)",
            flush=True,
        )
    return results


def measure(url: str, rounds: int) -> dict:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        check=True,
        env=_env(url),
        cwd=ROOT,
    )
    results: dict = {}
    _run_child(url)  # populate the store (an earlier process's report)
    populated = [_run_child(url) for _ in range(rounds)]
    cold = []
    for _ in range(rounds):
        _empty_store(url)
        cold.append(_run_child(url))
    for name, runs in (("populated", populated), ("cold", cold)):
        firsts = [r["first_s"] for r in runs]
        results[name] = {
            "first_median_s": statistics.median(firsts),
            "first_min_s": min(firsts),
            "first_max_s": max(firsts),
            "second_median_s": statistics.median(r["second_s"] for r in runs),
            "recomputed": runs[0]["recomputed"],
            "answers": sorted({(r["contributors"], r["median_days"]) for r in runs}),
        }
        print(
            f"first report, fresh process, store {name}: median {fmt(statistics.median(firsts))} "
            f"(min {fmt(min(firsts))}, max {fmt(max(firsts))}, {rounds} processes); "
            f"second {fmt(results[name]['second_median_s'])}; "
            f"read_artist_work calls {runs[0]['recomputed']}",
            flush=True,
        )
    return results


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="store_true", help="re-create and build the database")
    parser.add_argument("--postings", type=int, default=900_000)
    parser.add_argument("--artists", type=int, default=3000)
    parser.add_argument("--programs", type=int, default=1, help="programs in all (--build)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", DEFAULT_SERVER))
    parser.add_argument("--db", default="ledger_bench_report")
    parser.add_argument(
        "--startup-db", action="append", default=[], help="also time gunicorn's start-up on it"
    )
    parser.add_argument("--startup-only", action="store_true", help="only gunicorn's start-up")
    parser.add_argument("--before", type=Path, help="a checkout to time gunicorn's start-up of")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url)
        return 0
    if Path(sys.prefix).resolve() != VENV.resolve():  # bench/run.py makes the venv
        python = str(VENV / "bin" / "python")
        os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])
    url = f"{args.server}/{args.db}"
    if args.build:
        os.environ.update(_env(url))
        recreate_database(args.server, args.db)
        build(url, args.postings, args.artists, args.programs)
        return 0
    results = {} if args.startup_only else {"report": measure(url, args.rounds)}
    urls = {args.db: url} | {name: f"{args.server}/{name}" for name in args.startup_db}
    results["startup"] = startup(urls, args.rounds, args.before)
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
