"""CPU per request of the API lists, in-process, for comparing code versions on one database.

    cd <a checkout of the code to measure>
    <venv>/bin/python /path/to/bench/lists.py --db ledger_bench_copy --user bench-admin
    <venv>/bin/python /path/to/bench/lists.py --db ledger_bench_copy --user bench-admin --explain

Run from the checkout being measured (its code is imported from the working directory), against
a database that checkout's migrations fit: e.g. copies of the benchmark's database made with
`createdb -T ledger_bench_run NAME`, one migrated per version. It issues a token for `--user`
(writing a row: use a copy), sends 20 warm-up requests, then `-n` timed ones to the trivial
view and each list, through Django's test client with the bench settings and DEBUG off.

Per request it prints the Python process's CPU, the PostgreSQL backend's CPU (its
`/proc/<pid>/stat`, so the server must run on this machine) and the median wall-clock. On a
shared machine wall-clock moves 2-3x with other jobs; the CPU figures are what limits a
gunicorn worker's throughput and move far less. Run the versions alternately, several rounds.
`--explain` prints each list's statements with EXPLAIN (ANALYZE, BUFFERS) instead.
"""

import argparse
import json
import os
import statistics
import sys
import time

PATHS = [
    "/bench/ping/",
    "/api/v1/balances/",
    "/api/v1/contributions/?page_size=50",
    "/api/v1/ledger/entries/",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--user", required=True, help="username whose token the lists are read with"
    )
    parser.add_argument("-n", type=int, default=300, help="timed requests per path")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=f"{args.server}/{args.db}",
        DJANGO_SETTINGS_MODULE="bench.settings",
        ROOT_URLCONF="bench.urls",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-only-" + os.urandom(16).hex(),
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_CONN_MAX_AGE="60",
        DJANGO_SECURE_SSL_REDIRECT="false",
    )
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.tokens import issue_token

    user = get_user_model().objects.get(username=args.user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(user=user, name='lists')[1]}")
    if args.explain:
        explain(client)
    else:
        print(json.dumps(measure(client, args.n)))


def measure(client, n: int) -> dict:
    out = {}
    for path in PATHS:
        for _ in range(20):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        walls, cpus = [], []
        server = backend_cpu()
        for _ in range(n):
            cpu, wall = time.process_time(), time.perf_counter()
            client.get(path)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        out[path] = {
            "cpu_ms": round(statistics.fmean(cpus) * 1e3, 3),
            "pg_ms": round((backend_cpu() - server) / n * 1e3, 3),
            "median_ms": round(statistics.median(walls) * 1e3, 3),
        }
    return out


def backend_cpu() -> float:
    """Seconds of CPU used so far by the PostgreSQL backend serving this process."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def explain(client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for path in PATHS[1:]:
        client.get(path)  # warm, and last_used_at refreshed: not in the capture below
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        print(f"### {path}: {response.status_code}, {len(queries)} statements")
        for query in queries.captured_queries:
            print(query["sql"])
            if query["sql"].lstrip().upper().startswith("SELECT"):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    for (line,) in cursor.fetchall():
                        print("    " + line)


if __name__ == "__main__":
    main()
