"""Failover drill: lose the primary, promote its streaming replica, and check nothing
acknowledged was lost.

    .venv/bin/python bench/failover.py [--synchronous] [--seconds 3] [--port 5440]

Never touches the machine's own cluster: it makes a throw-away primary (initdb, as the
postgres user, on --port) and its replica (`scripts/replica start --primary`, on --port + 1)
in a temporary directory, then

1. migrates the primary and seeds a program (an operator, a treasurer, two artists) through
   the services;
2. with --synchronous, makes the replica synchronous (`synchronous_standby_names` naming it,
   `synchronous_commit = on`): a commit returns only once the replica has the WAL on disk;
3. records grants through `services.record_payout` (what POST /api/v1/payouts/ calls) from two
   writer threads for --seconds, keeping the id of every payout whose commit returned, and
   while they write, stops the primary at once (`pg_ctl stop -m immediate`: a crash);
4. promotes the replica (`scripts/replica promote`) and points the app at it (DATABASE_URL):
   every acknowledged payout must be there, `manage.py verify_ledger` must be clean, and a new
   payout must post;
5. prints the figures (payouts acknowledged, present, lost; writes per second before the
   crash; seconds from the crash to a writable primary) and removes everything.

Exit status 1 when an acknowledged payout is missing or the ledger does not verify. With
asynchronous replication (the default) a commit acknowledged in the last moments before the
crash may not have reached the replica: that loss is what --synchronous closes, at the cost
measured here. docs/SCALING.md ("Failover drill") has the manual steps and the figures.
"""

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
print = functools.partial(print, flush=True)  # progress shows as it happens
AMOUNT_MINOR = 100  # grants of 1.00: below any approval threshold, so each posts at once
WRITERS = 2


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: p.parts[-3])
    if not found:
        raise SystemExit(f"failover: no {name} (Debian's postgresql package) on this machine")
    return str(found[-1])


def as_postgres(*command: str, check=True, **kwargs) -> subprocess.CompletedProcess:
    prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    return subprocess.run([*prefix, *command], check=check, **kwargs)  # nosec B603


def psql(port: int, sql: str, database: str = "postgres") -> str:
    out = subprocess.run(  # nosec B603 (fixed arguments)
        [
            pg_bin("psql"),
            "-X",
            "-At",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def manage(url: str, *args: str, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(  # nosec B603 (this project's manage.py, fixed arguments)
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )


def make_primary(directory: Path, port: int) -> None:
    """A fresh cluster with the defaults a primary needs (wal_level replica, WAL senders,
    replication from 127.0.0.1 trusted by initdb's own pg_hba.conf)."""
    sockets = directory.parent / "run"  # not in the data directory, which is copied
    for made in (directory, sockets):
        made.mkdir()
        shutil.chown(made, "postgres", "postgres")
    as_postgres(
        pg_bin("initdb"), "-D", str(directory), "-U", "postgres", "-A", "trust", "--no-sync",
        "-E", "UTF8", "--locale=C", stdout=subprocess.DEVNULL,
    )  # fmt: skip
    with (directory / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\n# failover drill\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{sockets}'\nwal_level = replica\n"
        )
    as_postgres(
        pg_bin("pg_ctl"), "-D", str(directory), "-l", str(directory / "server.log"),
        "-o", f"-p {port}", "-w", "start", stdout=subprocess.DEVNULL,
    )  # fmt: skip


def seed(url: str) -> dict:
    """Migrate, then an operator, a program, its treasurer and two artists (the services)."""
    manage(url, "migrate", "--no-input")
    code = (
        "import json; from accounts.models import User; from ledger import services\n"
        "admin = User.objects.create(username='drill-admin', is_superuser=True)\n"
        "program = services.create_program(actor=admin, name='Failover drill', currency='USD')\n"
        "treasurer = User.objects.create(username='drill-treasurer')\n"
        "services.grant_role(actor=admin, program=program, user=treasurer, role='treasurer')\n"
        "artists = [User.objects.create(username=f'drill-artist-{n}') for n in range(2)]\n"
        "for artist in artists: services.enroll_artist(actor=admin, program=program, "
        "artist=artist)\n"
        "print(json.dumps({'program': program.pk, 'treasurer': treasurer.pk, "
        "'artists': [a.pk for a in artists]}))"
    )
    return json.loads(manage(url, "shell", "-c", code).stdout.strip().splitlines()[-1])


def write_until_crash(ids: dict, seconds: float, crash) -> tuple[list[int], float]:
    """Writer threads record grants; after `seconds`, `crash()` while they write. Returns the
    ids of the payouts whose commit returned, and the writes per second before the crash."""
    import django

    django.setup()
    from django.db import connection

    from accounts.models import User
    from ledger import services
    from ledger.models import Program

    acknowledged: list[int] = []
    lock = threading.Lock()
    crashed = threading.Event()
    started = time.perf_counter()

    def writer(artist_id: int) -> None:
        program = Program.objects.get(pk=ids["program"])
        actor, artist = User.objects.get(pk=ids["treasurer"]), User.objects.get(pk=artist_id)
        try:
            while True:
                payout = services.record_payout(
                    actor=actor, artist=artist, program=program,
                    amount_minor=AMOUNT_MINOR, kind="grant",
                )  # fmt: skip
                with lock:
                    acknowledged.append(payout.pk)  # the commit returned: acknowledged
        except Exception:  # the primary went away under it: expected, once crashed
            if not crashed.is_set():
                raise
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(a,)) for a in ids["artists"]]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    with lock:
        before_crash = len(acknowledged)
    elapsed = time.perf_counter() - started
    crashed.set()
    crash()
    for thread in threads:
        thread.join()
    return acknowledged, before_crash / elapsed


def check_promoted(url: str, acknowledged: list[int], program_id: int) -> dict:
    """On the promoted replica, through the app: which acknowledged payouts are there, the
    ledger verified, and a new payout posted."""
    code = (
        "import json, sys; from ledger.models import Payout, Program\n"
        "from accounts.models import User; from ledger import services\n"
        "wanted = json.loads(sys.stdin.read())\n"
        "present = set(Payout.objects.filter(pk__in=wanted).values_list('pk', flat=True))\n"
        f"program = Program.objects.get(pk={program_id})\n"
        "treasurer = User.objects.get(username='drill-treasurer')\n"
        "artist = User.objects.get(username='drill-artist-0')\n"
        "after = services.record_payout(actor=treasurer, artist=artist, program=program, "
        f"amount_minor={AMOUNT_MINOR}, kind='grant')\n"
        "print(json.dumps({'present': sorted(present), 'new_payout': after.pk, "
        "'total': Payout.objects.count()}))"
    )
    env = {**os.environ, "DATABASE_URL": url}
    out = subprocess.run(  # nosec B603 (this project's manage.py, fixed arguments)
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        input=json.dumps(acknowledged),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5440, help="the primary's (replica: +1)")
    parser.add_argument("--seconds", type=float, default=3.0, help="writing before the crash")
    parser.add_argument("--synchronous", action="store_true", help="synchronous replication")
    parser.add_argument("--keep", action="store_true", help="leave the clusters' directory")
    options = parser.parse_args()
    primary_port, replica_port = options.port, options.port + 1
    for port in (primary_port, replica_port):
        if subprocess.run([pg_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:  # fmt: skip  # noqa: E501  # nosec B603
            raise SystemExit(f"failover: port {port} is taken; choose another --port")

    work = Path(tempfile.mkdtemp(prefix="ledger-failover-"))
    work.chmod(0o755)  # the postgres user reaches the clusters inside
    primary_dir, replica_dir = work / "primary", work / "replica"
    replica_script = str(ROOT / "scripts" / "replica")
    primary_url = f"postgres://postgres@127.0.0.1:{primary_port}/ledger"
    mode = "synchronous" if options.synchronous else "asynchronous"
    failed = False
    try:
        print(f"failover: a throw-away primary on port {primary_port} in {primary_dir}")
        make_primary(primary_dir, primary_port)
        psql(primary_port, "CREATE DATABASE ledger")
        ids = seed(primary_url)
        print(f"failover: migrated and seeded program {ids['program']}")
        began = time.perf_counter()
        subprocess.run(  # nosec B603 (this project's script)
            [
                replica_script,
                "start",
                "--port",
                str(replica_port),
                "--dir",
                str(replica_dir),
                "--primary",
                f"127.0.0.1:{primary_port}",
                "--database",
                "ledger",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(
            f"failover: replica streaming on {replica_port} ({time.perf_counter() - began:.1f} s)"
        )
        if options.synchronous:
            psql(
                primary_port,
                f"ALTER SYSTEM SET synchronous_standby_names = 'replica_{replica_port}'",
            )
            psql(primary_port, "ALTER SYSTEM SET synchronous_commit = 'on'")
            psql(primary_port, "SELECT pg_reload_conf()")
            for _ in range(50):
                state = psql(primary_port, "SELECT sync_state FROM pg_stat_replication")
                if state == "sync":
                    break
                time.sleep(0.1)
            print(f"failover: replication is {state}")
            if state != "sync":
                raise SystemExit("failover: the replica never became synchronous")

        os.environ["DATABASE_URL"] = primary_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger.settings")
        sys.path.insert(0, str(ROOT))
        crash_at = {}

        def crash():
            crash_at["t"] = time.perf_counter()
            as_postgres(
                pg_bin("pg_ctl"), "-D", str(primary_dir), "-m", "immediate", "stop",
                stdout=subprocess.DEVNULL,
            )  # fmt: skip

        print(f"failover: {WRITERS} writers for {options.seconds:g} s ({mode}), then the crash")
        acknowledged, rate = write_until_crash(ids, options.seconds, crash)
        print(
            f"failover: primary stopped (immediate) after {len(acknowledged)} acknowledged payouts"
        )

        promoted = subprocess.run(  # nosec B603 (this project's script)
            [replica_script, "promote", "--dir", str(replica_dir)],
            check=True,
            capture_output=True,
            text=True,
        )
        writable = time.perf_counter() - crash_at["t"]
        promoted_url = promoted.stdout.strip().split("=", 1)[1]
        print(f"failover: promoted; DATABASE_URL={promoted_url}")
        found = check_promoted(promoted_url, acknowledged, ids["program"])
        verified = manage(promoted_url, "verify_ledger", check=False)
        missing = sorted(set(acknowledged) - set(found["present"]))
        print(verified.stdout.strip())
        print()
        print(f"mode                          {mode}")
        print(f"grants per second (2 writers) {rate:.0f}")
        print(f"payouts acknowledged          {len(acknowledged)}")
        print(f"present after promotion       {len(found['present'])}")
        print(f"lost                          {len(missing)} {missing[:10] if missing else ''}")
        print(f"crash to promoted primary     {writable:.2f} s")
        print(f"verify_ledger                 {'clean' if verified.returncode == 0 else 'FAILED'}")
        print(f"a new payout after failover   id {found['new_payout']}")
        if missing:
            print(
                "failover: acknowledged commits were lost: the asynchronous window "
                "(run with --synchronous to close it)"
            )
        failed = bool(missing) or verified.returncode != 0
    finally:
        subprocess.run(  # nosec B603 (this project's script)
            [replica_script, "stop", "--dir", str(replica_dir), "--immediate"],
            capture_output=True,
        )
        if primary_dir.exists():
            as_postgres(
                pg_bin("pg_ctl"), "-D", str(primary_dir), "-m", "immediate", "stop",
                check=False, capture_output=True,
            )  # fmt: skip
        if options.keep:
            print(f"failover: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
