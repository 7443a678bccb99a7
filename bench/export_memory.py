"""Peak memory and time of `stream_journal` over a large ledger on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_exports_bench \\
        .venv/bin/python bench/export_memory.py --postings 1000000

Builds (once per size; reused when a program of that size exists) a program whose ledger has
the given number of postings: grants to 1,000 artists, two postings per entry, real SHA-256
hash chain computed in Python, loaded with COPY into the payout, entry and posting tables,
10,000 entries per transaction (the deferred triggers check at each commit that every entry
balances). Then, in a fresh child process so the build does not count, streams the journal in
each format to /dev/null and prints time, bytes and peak resident memory (ru_maxrss).
Figures: docs/EXPORTS.md.
"""

import argparse
import datetime as dt
import functools
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledger.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from ledger import services  # noqa: E402
from ledger.hashing import canonical_content, chain_hash  # noqa: E402
from ledger.models import Account, AccountBalance, AccountKind, LedgerHead, Program  # noqa: E402

ARTISTS = 1000
print = functools.partial(print, flush=True)  # progress shows as it happens


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def build(postings: int, batch: int) -> Program:
    name = f"bench-{postings}"
    existing = Program.objects.filter(name=name).first()
    if existing is not None:
        print(f"reusing program {existing.pk} ({name})")
        return existing
    started = time.perf_counter()
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    program = services.create_program(actor=admin, name=name, currency="USD")
    User.objects.bulk_create(
        [User(username=f"bench-{postings}-{i}") for i in range(ARTISTS)],
        ignore_conflicts=True,
    )
    artists = list(User.objects.filter(username__startswith=f"bench-{postings}-").order_by("id"))
    for artist in artists:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    print(f"  {ARTISTS} artists enrolled: {time.perf_counter() - started:.1f} s")
    cash = Account.objects.get(program=program, kind=AccountKind.CASH)
    payables = {
        a.artist_id: a for a in Account.objects.filter(program=program, kind=AccountKind.PAYABLE)
    }
    entries = postings // 2
    base_day = dt.date(2020, 1, 1)
    base_time = dt.datetime(2020, 1, 1, 12, tzinfo=dt.UTC)

    def row(i):
        artist = artists[i % ARTISTS]
        amount = 100 + (i * 7919) % 100_000
        day = base_day + dt.timedelta(days=i * 2000 // entries)
        return artist, payables[artist.pk], amount, day, base_time + dt.timedelta(seconds=i)

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM ledger_payout")
        payout0 = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM ledger_entry")
        entry0 = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM ledger_posting")
        posting0 = cursor.fetchone()[0] + 1

    prev = "0" * 64
    balances: dict[int, int] = {}
    granted: dict[int, int] = {}
    # One transaction per batch: the deferred triggers check each batch's entries at its commit
    # (one huge transaction made the commit superlinear).
    for lo in range(0, entries, batch):
        hi = min(lo + batch, entries)
        with transaction.atomic(), connection.cursor() as cursor:
            pg = cursor.cursor  # the psycopg cursor, for COPY
            with pg.copy(
                "COPY ledger_payout (id, program_id, artist_id, kind, amount_minor, paid_on, "
                "method, reference, note, status, created_at, created_by_id, void_reason, "
                "decline_reason) "
                "FROM STDIN"
            ) as copy:
                for i in range(lo, hi):
                    artist, _payable, amount, day, at = row(i)
                    head = (payout0 + i, program.pk, artist.pk, "grant", amount, day, "bank")
                    copy.write_row((*head, f"B{i}", "", "paid", at, admin.pk, "", ""))
                    granted[artist.pk] = granted.get(artist.pk, 0) + amount
            with pg.copy(
                "COPY ledger_entry (id, program_id, seq, kind, payout_id, memo, posted_at, "
                "effective_date, created_by_id, prev_hash, hash) FROM STDIN"
            ) as copy:
                for i in range(lo, hi):
                    _artist, payable, amount, day, at = row(i)
                    memo = f"Grant paid (B{i})"
                    content = canonical_content(
                        program_id=program.pk,
                        seq=i + 1,
                        kind="payout",
                        contribution_id=None,
                        payout_id=payout0 + i,
                        reverses_hash=None,
                        memo=memo,
                        posted_at=at,
                        effective_date=day,
                        postings=[(payable.code, amount, "USD"), (cash.code, -amount, "USD")],
                    )
                    digest = chain_hash(prev, content)
                    head = (entry0 + i, program.pk, i + 1, "payout", payout0 + i, memo, at, day)
                    copy.write_row((*head, admin.pk, prev, digest))
                    prev = digest
            with pg.copy(
                "COPY ledger_posting (id, entry_id, program_id, account_id, amount_minor, "
                "currency) FROM STDIN"
            ) as copy:
                for i in range(lo, hi):
                    _artist, payable, amount, _day, _at = row(i)
                    posting = posting0 + 2 * i
                    copy.write_row((posting, entry0 + i, program.pk, payable.pk, amount, "USD"))
                    copy.write_row((posting + 1, entry0 + i, program.pk, cash.pk, -amount, "USD"))
                    balances[payable.pk] = balances.get(payable.pk, 0) + amount
                    balances[cash.pk] = balances.get(cash.pk, 0) - amount
            LedgerHead.objects.filter(program=program).update(seq=hi, hash=prev)
            if hi == entries:
                for account_id, balance in balances.items():
                    AccountBalance.objects.filter(account_id=account_id).update(
                        balance_minor=balance, version=entries
                    )
                for artist_id, total in granted.items():
                    program.memberships.filter(artist_id=artist_id).update(grants_minor=total)
                for table in ("ledger_payout", "ledger_entry", "ledger_posting"):
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        if lo == 0:
            with connection.cursor() as cursor:
                for table in ("ledger_payout", "ledger_entry", "ledger_posting"):
                    cursor.execute(f"ANALYZE {table}")
        print(f"  {2 * hi} postings committed: {time.perf_counter() - started:.1f} s")
    print(f"built program {program.pk} in {time.perf_counter() - started:.1f} s")
    return program


def measure(program_id: int, fmt: str, chunk_size: int) -> None:
    from ledger.exports.journal import stream_journal

    program = Program.objects.get(pk=program_id)
    before = peak_mb()
    started = time.perf_counter()
    written = chunks = 0
    with open(os.devnull, "w", encoding="utf-8") as out:
        for chunk in stream_journal(program, fmt, chunk_size=chunk_size):
            out.write(chunk)
            written += len(chunk)
            chunks += 1
    elapsed = time.perf_counter() - started
    print(
        f"{fmt:9s}: {elapsed:7.1f} s, {written / 1e6:7.1f} MB of text in {chunks} chunks, "
        f"peak RSS {peak_mb():6.1f} MB (after Django setup: {before:.1f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=10_000, help="entries per transaction")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--format", default="hledger", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (this benchmark uses COPY).")
    if args.measure:
        measure(args.measure, args.format, args.chunk_size)
        return
    call_command("migrate", verbosity=0)
    program = build(args.postings, args.batch)
    print(f"{os.uname().nodename}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    for fmt in ("hledger", "beancount"):
        child = [sys.executable, __file__, "--measure", str(program.pk), "--format", fmt]
        subprocess.run([*child, "--chunk-size", str(args.chunk_size)], check=True)


if __name__ == "__main__":
    main()
