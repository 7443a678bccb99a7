"""Several app servers behind a load balancer against one server, measured with the same load.

    python3 bench/scale.py [--users 200] [--minutes 3] [--workers 3] [--servers 2]
                           [--db ledger_scale] [--no-replica] [--no-pgbouncer]
                           [--only multi|single] [--skip-load]

Two configurations, one after the other, each on a fresh copy of the demo data (a throw-away
database on the machine's PostgreSQL, LOAD_PG, 127.0.0.1:5432), each loaded by the scenario of
bench/load.py (bench/locustfile.py: artists and admins reading and writing through the API),
each followed by `verify_ledger` on the primary:

- **several servers** ("multi"): Redis (a redis-server of its own, the shared cache that holds
  the throttle counts), a streaming replica of the primary (`scripts/replica`, whose URL becomes
  DATABASE_REPLICA_URL), PgBouncer in front of both (`scripts/pgbouncer`, whose URL becomes
  DATABASE_URL), `--servers` app servers of `--workers` gunicorn workers each, every one with
  the background worker beside it (`manage.py db_worker`, as scripts/run starts it), and
  HAProxy in front on `--lb-port` (round robin, health-checked on /healthz; its configuration is
  written here). Before the load, the throttle is checked across servers: token creations,
  alternating between the servers, trip at the configured count in total, not per server.
- **one server** ("single"): one app server of the same `--workers`, straight to the primary;
  no replica, no PgBouncer, no load balancer (Redis stays: the cache is not what is compared).

Prints requests/s, p50/p95 per endpoint and errors of both runs side by side; where the
machine's CPU went meanwhile (each part of the stack, locust, everything else: the machine may
be shared) and how many transactions the primary and the replica ran; and exits non-zero on
any error, a failed `verify_ledger` or a throttle that counted per server.
Everything it starts is stopped again, also on Ctrl-C or a failure. Missing Debian packages
(redis-server, haproxy) are installed with apt-get. Logs and locust's CSV files: bench/out/scale/.
Figures in docs/SCALING.md ("Several app servers, measured"). Standard library only.
"""

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (
    OUT,
    PG,
    PY,
    ROOT,
    SERVE,
    app_env,
    cpu_times,
    ensure_locust,
    prepare_database,
    read_stats,
    run,
    run_locust,
    verify_ledger,
    wait_healthy,
)

print = functools.partial(print, flush=True)  # progress shows as it happens
SCALE_OUT = OUT / "scale"
PRIMARY = urllib.parse.urlsplit(PG).netloc.rsplit("@", 1)[-1]  # host:port of LOAD_PG
THROTTLE_USER = "ada"  # a demo artist: staff would need a second factor to create a token
THROTTLE_PASSWORD = "ledger-demo-2026"  # seed_demo's published demo login, not a secret
# HAProxy's configuration. Sync gunicorn workers serve one request each, so each server takes
# at most `workers` at once (maxconn) and HAProxy queues the rest, handing each to the first
# server with a free worker instead of leaving it in a busy server's listen backlog. Timeouts:
# the server's is gunicorn's request timeout (35 s) plus a margin. X-Served-By names the server
# that answered (shown by the throttle check); X-Forwarded-For carries the client's address
# (the app trusts one proxy: DJANGO_NUM_PROXIES=1).
HAPROXY_CFG = """\
global
    maxconn 4096
    stats socket {dir}/haproxy.sock mode 600 level user

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 40s
    timeout queue 30s

frontend ledger
    bind 127.0.0.1:{port}
    default_backend app

backend app
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    http-response set-header X-Served-By %[srv_name]
    default-server check inter 2s fall 2 rise 1 maxconn {workers}
{servers}
"""
TRANSACTIONS_SQL = (
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
)
RATE_SQL = (
    "from django.conf import settings; "
    "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['token_create'])"
)


def interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # teardown runs as on Ctrl-C


def ensure_command(command: str, package: str) -> str:
    """The path of a Debian command, installing its package with apt-get when it is missing."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if found:
        return found
    print(f"scale: installing the Debian package {package}")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(*sudo, "apt-get", "update", "-qq", env=env)
    run(*sudo, "apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq",
        "--no-install-recommends", package, env=env)  # fmt: skip
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if not found:
        raise RuntimeError(f"{package} installed but {command} not found")
    return found


def with_database(url: str, db: str) -> str:
    """`url` naming database `db` (the scripts print a URL for their default database)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


class Stack:
    """Processes and services started for one run, stopped in reverse order on close."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.exits = contextlib.ExitStack()
        self.sessions: dict[int, str] = {}  # session id (its leader's pid): what it runs
        self.script_dirs: dict[str, Path] = {}  # scripts/<name>'s --dir

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.exits.__exit__(*exc)

    def spawn(self, name: str, cmd: list, env=None) -> subprocess.Popen:
        """A long-running process in its own session (Ctrl-C reaches us, not it), logged."""
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed on teardown
        process = subprocess.Popen(
            [str(part) for part in cmd],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.exits.callback(self._stop, name, process, log)
        self.sessions[process.pid] = name.rstrip("0123456789")
        return process

    @staticmethod
    def _stop(name, process, log):
        if process.poll() is None:
            process.terminate()  # gunicorn: graceful, requests in flight finish
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                print(f"scale: {name} did not stop in 40 s; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()

    def _stop_script(self, name, directory):
        with open(self.logs / f"{name}.log", "a") as log:
            stopped = subprocess.run(
                [str(ROOT / "scripts" / name), "stop", "--dir", str(directory)],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        if stopped.returncode == 0:  # a throw-away copy (a replica's is the whole cluster)
            shutil.rmtree(directory, ignore_errors=True)

    def script(self, name: str, args: list) -> str:
        """`scripts/<name> start …`, stopped with `scripts/<name> stop --dir …` on teardown;
        the last line it prints (a database URL)."""
        directory = args[args.index("--dir") + 1]
        self.script_dirs[name] = Path(directory)
        # Registered before the start, so a start that fails half-way is stopped too.
        self.exits.callback(self._stop_script, name, directory)
        result = subprocess.run(
            [str(ROOT / "scripts" / name), "start", *[str(arg) for arg in args]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        with open(self.logs / f"{name}.log", "a") as log:
            log.write(result.stdout + result.stderr)
        if result.returncode or not result.stdout.strip():
            raise RuntimeError(
                f"scripts/{name} start failed ({result.returncode}): {result.stderr[-2000:]}"
            )
        return url_of(result.stdout)


def url_of(output: str) -> str:
    """The database URL a script printed on its last line, as `URL` or `NAME=URL`."""
    last = output.strip().splitlines()[-1].strip()
    return re.sub(r"^[A-Z_]+=", "", last)


def start_redis(stack: Stack, port: int) -> str:
    """A redis-server of this run's own, in memory only; its URL."""
    redis = ensure_command("redis-server", "redis-server")
    data = stack.logs / "redis"
    data.mkdir(exist_ok=True)
    process = stack.spawn(
        "redis",
        [redis, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", data],
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0"
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer on {port}: see {stack.logs}")
        time.sleep(0.2)


def start_app_servers(stack: Stack, env: dict, ports: list[int], workers: int) -> None:
    """Gunicorn on each port, each with a background worker beside it, until all are healthy."""
    servers = []
    for number, port in enumerate(ports, 1):
        server_env = env | {"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
        servers.append(stack.spawn(f"app{number}", SERVE, server_env))
        stack.spawn(f"worker{number}", [PY, "manage.py", "db_worker", "--no-reload"], env)
    for port, server in zip(ports, servers, strict=True):
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process=server)


def haproxy_config(directory: Path, port: int, app_ports: list[int], workers: int) -> str:
    """HAProxy's configuration: `port` in front of the app servers on `app_ports`."""
    servers = "\n".join(
        f"    server app{number} 127.0.0.1:{app}" for number, app in enumerate(app_ports, 1)
    )
    return HAPROXY_CFG.format(dir=directory, port=port, workers=workers, servers=servers)


def start_haproxy(stack: Stack, port: int, app_ports: list[int], workers: int) -> Path:
    haproxy = ensure_command("haproxy", "haproxy")
    config = stack.logs / "haproxy.cfg"
    config.write_text(haproxy_config(stack.logs, port, app_ports, workers))
    run(haproxy, "-c", "-q", "-f", config)
    process = stack.spawn("haproxy", [haproxy, "-db", "-f", config])
    wait_healthy(f"http://127.0.0.1:{port}/healthz", process=process)
    # Both servers must be up in HAProxy's eyes before traffic (the first check passes at once).
    deadline = time.monotonic() + 20
    while any(row["status"] != "UP" for row in haproxy_servers(stack.logs)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"HAProxy does not see every server up: {stack.logs}")
        time.sleep(0.5)
    return config


def haproxy_servers(logs: Path) -> list[dict]:
    """HAProxy's own figures per app server (`show stat` on its socket)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(logs / "haproxy.sock"))
        sock.sendall(b"show stat\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    lines = data.decode().lstrip("# ").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return [row for row in rows if row["pxname"] == "app" and row["svname"].startswith("app")]


def post_json(url: str, body: dict):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def check_throttle(base: str, env: dict, servers: int) -> tuple[bool, list[str]]:
    """Token creations through the load balancer, which alternates the servers: the first 429
    must come right after the configured count in total (a per-process or per-server count
    would let `servers` times as many through). Returns (held, lines to print)."""
    rate = subprocess.run(
        [str(PY), "manage.py", "shell", "-v0", "-c", RATE_SQL],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip
    count, period = rate.split("/")  # DRF's "30/min": 30 per minute
    limit, window = int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    # ledger/ratelimit.py estimates its sliding window from two fixed ones aligned to the epoch,
    # rounding the previous one's share down: a check that straddles their boundary may see
    # one more let through. Started early in a fixed window (a minute's fits the ~20 s of
    # password checks), the count is exact.
    if window == 60 and time.time() % window > 30:
        time.sleep(window - time.time() % window + 0.5)
    answers = []
    started = time.monotonic()
    for _ in range(limit + servers):
        status, headers = post_json(
            f"{base}/api/v1/auth/tokens/",
            {"username": THROTTLE_USER, "password": THROTTLE_PASSWORD},
        )
        answers.append((headers.get("X-Served-By", "?"), status))
    seconds = time.monotonic() - started
    statuses = [status for _, status in answers]
    held = statuses == [201] * limit + [429] * servers
    lines = [
        f"Throttle across servers: POST /api/v1/auth/tokens/ as {THROTTLE_USER!r}, configured "
        f"LEDGER_THROTTLE_TOKEN_CREATE={rate} per client address; {len(answers)} requests "
        f"through the load balancer in {seconds:.1f} s",
    ]
    for name in sorted({server for server, _ in answers}):
        mine = [status for server, status in answers if server == name]
        lines.append(
            f"  {name}: {len(mine)} requests, {mine.count(201)} created (201), "
            f"{mine.count(429)} refused (429)"
        )
    shown = [f"{server}:{status}" for server, status in answers]
    if len(shown) > 12:  # the start and the end tell it; the per-server counts cover the middle
        shown = [*shown[:4], f"… {len(shown) - 10} more …", *shown[-6:]]
    lines.append("  in order: " + " ".join(shown))
    first = statuses.index(429) + 1 if 429 in statuses else None
    lines.append(
        f"  first 429 at request {first}, limit {limit}: "
        + ("one count across all servers" if held else "NOT one count across servers")
    )
    return held, lines


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            "?",
        )
    memory = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as meminfo:
        memory = f"{int(meminfo.readline().split()[1]) / 1024**2:.0f} GiB"
    return f"{os.cpu_count()} CPUs ({model}), {memory}, {platform.platform(terse=True)}"


class CpuSampler(threading.Thread):
    """Where the machine's CPU time went during a run, by part of the stack: every process's
    jiffies (/proc/<pid>/stat) read once a second, so processes that start and end within the
    run (recycled gunicorn workers, PostgreSQL backends of closed connections) count too, to
    within a second. Ours are told apart by session (each process this script starts leads
    one; the scripts' PgBouncer and replica by their --dir on the command line); PostgreSQL
    backends by the database named in their process title; the rest is the machine's other
    work (other people's jobs, the system)."""

    def __init__(self, stack: "Stack", db: str):
        super().__init__(daemon=True)
        self.stack, self.db = stack, db
        self.first: dict[tuple, int] = {}
        self.last: dict[tuple, int] = {}
        self.part: dict[tuple, str] = {}
        self.stop = threading.Event()
        self.initial = True  # the first sample: what runs already counts from there

    def sample(self) -> None:
        ours = dict(self.stack.sessions)
        daemons: dict[int, str] = {}  # pid: the script whose --dir its command line names
        seen = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    head, rest = stat.read().rsplit(")", 1)
                with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                    command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue  # ended meanwhile
            fields = rest.split()
            pid, comm = int(entry.name), head.split("(", 1)[1]
            for name, directory in self.stack.script_dirs.items():
                if re.search(rf"{re.escape(str(directory))}(/|\s|$)", command):
                    daemons[pid] = name
            jiffies = int(fields[11]) + int(fields[12])  # utime + stime
            # pid and start time (a reused pid is a new process); parent; session
            seen.append(((pid, fields[19]), int(fields[1]), int(fields[3]), comm, command, jiffies))
        for key, parent, session, comm, command, jiffies in seen:
            if key not in self.part:
                # A PostgreSQL server's processes each lead a session of their own: the
                # replica's are told by their parent, the postmaster.
                owner = daemons.get(key[0]) or daemons.get(parent) or ours.get(session)
                self.part[key] = self._part(comm, owner, command)
                # Started during the run: all it spent counts; running already: from now on.
                self.first[key] = jiffies if self.initial else 0
            self.last[key] = jiffies
        self.initial = False

    def _part(self, comm: str, ours: str | None, command: str) -> str:
        if comm == "locust":
            return "locust"
        if ours:
            return {"app": "gunicorn", "worker": "db_worker"}.get(ours, ours)
        if command.startswith("postgres:") and f" {self.db} " in command:
            return "primary"
        return "other"

    def run(self) -> None:
        self.sample()
        while not self.stop.wait(1.0):
            self.sample()

    def cores(self, seconds: float) -> dict[str, float]:
        """Cores used on average, by part (the whole machine's CPUs = os.cpu_count())."""
        self.stop.set()
        self.join()
        self.sample()
        ticks = os.sysconf("SC_CLK_TCK")
        used: dict[str, float] = {}
        for key, part in self.part.items():
            spent = (self.last[key] - self.first[key]) / ticks / seconds
            used[part] = used.get(part, 0.0) + spent
        return dict(sorted(used.items(), key=lambda item: -item[1]))


def transactions(databases: dict[str, str]) -> dict[str, int]:
    """Transactions each database server has run in this database so far (pg_stat_database):
    which of primary and replica served the load."""
    counts = {}
    for name, url in databases.items():
        answer = subprocess.run(
            ["psql", url, "-Atc", TRANSACTIONS_SQL], capture_output=True, text=True, check=False
        )
        counts[name] = int(answer.stdout.strip() or 0)
    return counts


def measure(stack: Stack, host: str, args, tokens: Path, env: dict, name: str, databases) -> dict:
    """The locust scenario against `host`; its figures, how busy the machine was and how many
    transactions each of `databases` ({name: direct URL}) ran meanwhile."""
    print(f"scale: {name}: {args.users} users for {args.minutes:g} min against {host}")
    counted = transactions(databases)
    before = cpu_times()
    load = os.getloadavg()
    sampler = CpuSampler(stack, args.db)
    sampler.start()
    with open(SCALE_OUT / f"locust-{name}.log", "w") as log:
        returncode, elapsed = run_locust(
            host, args.users, args.minutes, SCALE_OUT / name, tokens, env,
            spawn_rate=args.spawn_rate, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    after = cpu_times()
    busy = (after[0] - before[0]) / (after[1] - before[1]) if before and after else None
    counted = {db: count - counted[db] for db, count in transactions(databases).items()}
    return {
        "transactions": counted,
        "rows": read_stats(SCALE_OUT / name),
        "locust": returncode,
        "seconds": elapsed,
        "cpu_busy": busy,
        "cores": sampler.cores(elapsed),
        "load_before": load,
    }


def verify_books(env: dict) -> int:
    """`verify_ledger` on the primary once everything is stopped (Redis too: the command runs
    on the database's own cache table); its exit status."""
    verify = verify_ledger({k: v for k, v in env.items() if k != "REDIS_URL"})
    if verify.returncode:
        print(verify.stdout[-3000:] + verify.stderr[-3000:])
    return verify.returncode


@contextlib.contextmanager
def prepared(args, name: str, tokens: Path):
    """A configuration's stack with its Redis, on a fresh copy of the demo data: (stack, its
    log folder, the primary's URL, the app's environment straight to the primary)."""
    logs = SCALE_OUT / name
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    primary = f"{PG}/{args.db}"
    with Stack(logs) as stack:
        env = app_env(primary, REDIS_URL=start_redis(stack, args.redis_port))
        print(f"scale: {name}: preparing {args.db} on the primary")
        prepare_database(PG, args.db, env, tokens)
        yield stack, logs, primary, env


def run_multi(args, tokens: Path) -> dict:
    result = {"name": "multi"}
    with prepared(args, "multi", tokens) as (stack, logs, primary, direct):
        extra = {"REDIS_URL": direct["REDIS_URL"], "DJANGO_NUM_PROXIES": "1"}
        parts = [f"Redis :{args.redis_port}", f"primary {PRIMARY}"]
        if args.replica:
            replica = stack.script(
                "replica",
                ["--port", args.replica_port, "--dir", logs / "replica", "--primary", PRIMARY],
            )
            extra["DATABASE_REPLICA_URL"] = with_database(replica, args.db)
            parts.append(f"replica :{args.replica_port}")
        database_url = primary
        if args.pgbouncer:
            pgbouncer = ["--port", args.pgbouncer_port, "--dir", logs / "pgbouncer"]
            pgbouncer += ["--upstream", PRIMARY]
            if args.replica:
                pgbouncer += ["--replica-upstream", f"127.0.0.1:{args.replica_port}"]
            url = stack.script("pgbouncer", pgbouncer)
            database_url = with_database(url, args.db)
            if args.replica:  # the replica through PgBouncer too: its alias <db>_replica
                extra["DATABASE_REPLICA_URL"] = with_database(url, f"{args.db}_replica")
            parts.append(f"PgBouncer :{args.pgbouncer_port}")
        # The same secret key as the data was written with (it derives the encryption key).
        env = direct | {"DATABASE_URL": database_url, **extra}
        ports = [args.app_port + number for number in range(args.servers)]
        print(f"scale: multi: {args.servers} app servers × {args.workers} workers on {ports}")
        start_app_servers(stack, env, ports, args.workers)
        start_haproxy(stack, args.lb_port, ports, args.workers)
        parts += [f"{args.servers} × {args.workers} gunicorn workers", f"HAProxy :{args.lb_port}"]
        result["stack"] = ", ".join(parts)
        result["env"] = {k: v for k, v in extra.items() if k != "DJANGO_NUM_PROXIES"}
        result["env"]["DATABASE_URL"] = database_url
        base = f"http://127.0.0.1:{args.lb_port}"
        result["throttle_held"], result["throttle"] = check_throttle(base, env, args.servers)
        print("\n".join(result["throttle"]))
        if not args.skip_load:
            databases = {"primary": primary}
            if args.replica:
                databases["replica"] = with_database(replica, args.db)
            result |= measure(stack, base, args, tokens, env, "multi", databases)
            result["balancer"] = [
                {key: row[key] for key in ("svname", "stot", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx")}
                for row in haproxy_servers(logs)
            ]
    # Every server has stopped: the books are checked on the primary itself.
    result["verify"] = verify_books(direct)
    return result


def run_single(args, tokens: Path) -> dict:
    result = {"name": "single"}
    with prepared(args, "single", tokens) as (stack, _logs, primary, env):
        print(f"scale: single: 1 app server × {args.workers} workers on {args.app_port}")
        start_app_servers(stack, env, [args.app_port], args.workers)
        result["stack"] = f"Redis :{args.redis_port}, primary {PRIMARY}, 1 × {args.workers} workers"
        result |= measure(
            stack, f"http://127.0.0.1:{args.app_port}", args, tokens, env, "single",
            {"primary": primary},
        )  # fmt: skip
    result["verify"] = verify_books(env)
    return result


def figures(result: dict, name: str) -> dict | None:
    row = next((row for row in result.get("rows", []) if row["Name"] == name), None)
    if row is None:
        return None
    return {
        "rps": float(row["Requests/s"]),
        "p50": row["50%"],
        "p95": row["95%"],
        "errors": int(row["Failure Count"]),
        "type": row["Type"],
    }


def print_table(results: list[dict]) -> None:
    names = []
    for result in results:
        for row in result.get("rows", []):
            if row["Name"] != "Aggregated" and row["Name"] not in names:
                names.append(row["Name"])
    names.append("Aggregated")
    titles = {"single": "1 server", "multi": "several servers"}
    head = "| endpoint |" + "".join(
        f" {titles[r['name']]}: req/s | p50 ms | p95 ms | errors |" for r in results
    )
    print(head)
    print("|---|" + "---:|---:|---:|---:|" * len(results))
    for name in names:
        cells = []
        label = name
        for result in results:
            found = figures(result, name)
            if found is None:
                cells.append(" – | – | – | – |")
                continue
            label = f"{found['type']} {name}".strip() if name != "Aggregated" else "**all**"
            cells.append(
                f" {found['rps']:.1f} | {found['p50']} | {found['p95']} | {found['errors']} |"
            )
        print(f"| {label} |" + "".join(cells))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--spawn-rate", type=int, default=20, help="users started per second")
    ap.add_argument("--workers", type=int, default=3, help="gunicorn workers per app server")
    ap.add_argument("--servers", type=int, default=2, help="app servers behind the balancer")
    ap.add_argument("--db", default="ledger_scale", help="throw-away database (dropped first)")
    ap.add_argument("--only", choices=["multi", "single"], help="run one configuration")
    ap.add_argument("--no-replica", dest="replica", action="store_false")
    ap.add_argument("--no-pgbouncer", dest="pgbouncer", action="store_false")
    ap.add_argument("--skip-load", action="store_true", help="multi: the throttle check only")
    ap.add_argument("--lb-port", type=int, default=8100)
    ap.add_argument("--app-port", type=int, default=8101, help="the first app server's")
    ap.add_argument("--pgbouncer-port", type=int, default=6440)
    ap.add_argument("--replica-port", type=int, default=5450)
    ap.add_argument("--redis-port", type=int, default=6390)
    args = ap.parse_args()
    if not PY.exists():  # a fresh clone: the project's own setup makes .venv
        subprocess.run([str(ROOT / "scripts" / "setup")], check=True)
    signal.signal(signal.SIGTERM, interrupted)
    SCALE_OUT.mkdir(parents=True, exist_ok=True)
    if not args.skip_load:
        ensure_locust()
    tokens = SCALE_OUT / "tokens.json"
    started = dt.datetime.now(dt.UTC)
    load = os.getloadavg()
    results = []
    if args.only != "single":
        results.append(run_multi(args, tokens))
    if args.only != "multi" and not args.skip_load:
        results.append(run_single(args, tokens))

    print(f"\n{started:%Y-%m-%d %H:%M} UTC; {machine()}; load average at start "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    if not args.skip_load:
        print(f"{args.users} users, {args.minutes:g} min each, locust on the same machine")
    print()
    failed = False
    for result in results:
        line = f"{result['name']}: {result['stack']}"
        if "seconds" in result:
            busy = result["cpu_busy"]
            line += f"; {result['seconds']:.0f} s, CPU busy {busy:.0%}" if busy else ""
        print(line + f"; verify_ledger exit {result['verify']}")
        if result.get("cores"):
            print(f"  cores used (of {os.cpu_count()}): " + ", ".join(
                f"{part} {cores:.2f}" for part, cores in result["cores"].items()
            ))  # fmt: skip
            # The machine is shared, so requests/s follows how much CPU the stack was given;
            # requests per CPU-second of the stack itself (not locust, not the rest) compare
            # the configurations' cost.
            stack = sum(v for k, v in result["cores"].items() if k not in ("other", "locust"))
            total = figures(result, "Aggregated")
            if stack and total:
                print(f"  the stack used {stack:.2f} cores: {total['rps'] / stack:.0f} requests "
                      "per CPU-second")  # fmt: skip
        if result.get("transactions"):
            print("  transactions in the database: " + ", ".join(
                f"{server} {count}" for server, count in result["transactions"].items()
            ))  # fmt: skip
        if result.get("balancer"):
            print("  HAProxy per server: " + "; ".join(
                f"{row['svname']} {row['stot']} requests ({row['hrsp_2xx']} 2xx, "
                f"{row['hrsp_4xx']} 4xx, {row['hrsp_5xx']} 5xx)" for row in result["balancer"]
            ))  # fmt: skip
        failed |= bool(result["verify"]) or bool(result.get("locust"))
        failed |= result.get("throttle_held") is False
    if any("rows" in result for result in results):
        print()
        print_table([result for result in results if "rows" in result])
    for result in results:
        if "throttle" in result:
            print()
            print("\n".join(result["throttle"]))
    with open(SCALE_OUT / "results.json", "w") as out:
        json.dump({"args": vars(args), "started": started.isoformat(), "results": results}, out,
                  indent=1, default=str)  # fmt: skip
    errors = sum((figures(r, "Aggregated") or {"errors": 0})["errors"] for r in results)
    print(f"\nerrors: {errors}; " + ("FAILED" if failed or errors else "ok"))
    return 1 if failed or errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the stack was torn down on the way out
        print("scale: interrupted; everything it started has been stopped")
        sys.exit(130)
