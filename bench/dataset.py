"""Build a large, consistent ledger on PostgreSQL quickly, with COPY.

One call to `build_program()` creates one program (through the services, so its head, labor and
cash accounts and rate card are the real thing), then generates in memory thousands of artists,
their memberships, payable accounts and balance rows, accepted contributions, grants and
settlements, reversals and voids, and the journal that posts them: entries with a real hash
chain (`ledger.hashing.chain_hash` over `canonical_content`) and two postings each.
Everything is COPYed in, then the program's balance rows and `LedgerHead` are set to the final
figures, so `ledger.verify.verify_program` passes on the result.

Rows are COPYed in chunks, one transaction per chunk, with the session in
`session_replication_role = replica` (superuser only): that switches off the row triggers, so
the deferred "entry balances" check and the foreign-key checks do not run row by row. They
must not: their plans are cached while the new tables look empty, so each check scans whole
tables and a 100,000-posting load took eight minutes. `check_loaded()` then runs the same
checks set-wise (every entry has two or more postings summing to zero per currency; every
foreign key of every loaded table points at a row) and raises if any fails.
Audit rows are not generated (the bench history is synthetic; verify does not read them).

Also made, for the posting benchmarks, and consistent with the books at every point:
- `pending`: submitted contributions, waiting to be accepted (service and raw "full" paths);
- `reserved`: contributions accepted with their value already counted in the memberships but
  not yet posted: the raw "minimal" path posts them (entry, postings, balances, head only).
  Until they are posted, `verify_program` reports those payables as differing from their
  totals: build with `reserved=0` to check a fresh dataset.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction

from ledger import services
from ledger.hashing import canonical_content, chain_hash
from ledger.models import (
    Account,
    AccountBalance,
    AccountKind,
    Contribution,
    Entry,
    LedgerHead,
    Membership,
    Payout,
    Posting,
    Program,
)
from ledger.models.journal import GENESIS_HASH
from ledger.money import value_of_hours
from ledger.services.journal import account_code

SEVERITIES = ("low", "medium", "high", "critical")
BOUNTIES = {"low": 1000, "medium": 5000, "high": 20000, "critical": 50000}
HOURLY_MINOR = 4500
CHUNK_ROWS = 100_000  # rows per COPY transaction


# --- COPY ----------------------------------------------------------------------------------


def _text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


class Copier:
    """COPY dict rows into a model's table; columns not given take the field's default."""

    def __init__(self, model: type[models.Model], *, with_pk: bool = True):
        self.table = model._meta.db_table
        pk = model._meta.pk
        fields = model._meta.concrete_fields
        self.columns = [f.column for f in fields if with_pk or f is not pk or f.remote_field]
        self.defaults = {}
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults[f.column] = dt.datetime.now(dt.UTC)
            else:
                self.defaults[f.column] = f.get_default()

    def line(self, row: dict) -> str:
        d = self.defaults
        return "\t".join(_text(row[c] if c in row else d[c]) for c in self.columns) + "\n"

    def copy(self, rows, cursor) -> int:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        sql = f'COPY "{self.table}" ({columns}) FROM STDIN'
        buf = io.StringIO()
        n = 0
        for row in rows:
            buf.write(self.line(row))
            n += 1
        with cursor.copy(sql) as cp:
            cp.write(buf.getvalue())
        return n


def copy_in_chunks(model, rows: list[dict], chunk: int = CHUNK_ROWS) -> None:
    if not rows:
        return
    copier = Copier(model, with_pk=model._meta.pk.column in rows[0])
    for start in range(0, len(rows), chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            copier.copy(rows[start : start + chunk], cursor)


class LoadError(Exception):
    pass


LOADED_MODELS = (Membership, Account, AccountBalance, Contribution, Payout, Entry, Posting)


def check_loaded(program: Program) -> None:
    """What the triggers skipped during the load, checked set-wise; raises `LoadError`."""
    checks = {
        "an entry with fewer than two postings": (
            "SELECT e.id FROM ledger_entry e LEFT JOIN (SELECT entry_id, count(*) AS n "
            "FROM ledger_posting WHERE program_id = %s GROUP BY entry_id) c ON c.entry_id = e.id "
            "WHERE e.program_id = %s AND COALESCE(c.n, 0) < 2 LIMIT 1",
            [program.pk, program.pk],
        ),
        "an entry that does not balance": (
            "SELECT entry_id FROM ledger_posting WHERE program_id = %s "
            "GROUP BY entry_id, currency HAVING sum(amount_minor) <> 0 LIMIT 1",
            [program.pk],
        ),
    }
    for model in (get_user_model(), *LOADED_MODELS):
        for f in model._meta.concrete_fields:
            if not f.is_relation:
                continue
            parent = f.related_model._meta
            target = f.target_field.column
            checks[f"{model._meta.db_table}.{f.column} pointing nowhere"] = (
                f'SELECT c."{f.column}" FROM "{model._meta.db_table}" c '
                f'WHERE c."{f.column}" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM '
                f'"{parent.db_table}" p WHERE p."{target}" = c."{f.column}") LIMIT 1',
                [],
            )
    with connection.cursor() as cursor:
        for what, (sql, params) in checks.items():
            cursor.execute(sql, params)
            row = cursor.fetchone()
            if row is not None:
                raise LoadError(f"{what}: {row[0]}")


def next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
        return cursor.fetchone()[0]


def reset_sequence(model) -> None:
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), "
            f'(SELECT COALESCE(MAX("{pk}"), 0) + 1 FROM "{table}"), false)',
            [table, pk],
        )


# --- the generator -------------------------------------------------------------------------


@dataclass
class Built:
    """What a build made, for the benchmarks that follow."""

    program: Program
    admin: object
    artist_ids: list[int]
    payable_ids: dict[int, int]  # artist id → payable account id
    entries: int = 0
    postings: int = 0
    pending_ids: list[int] = field(default_factory=list)
    reserved_ids: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def build_program(
    *,
    postings: int,
    artists: int = 2000,
    pending: int = 0,
    reserved: int = 0,
    seed: int = 7,
    name: str | None = None,
    admin=None,
    currency: str = "EUR",
    days: int = 700,
) -> Built:
    """Create one program with about `postings` postings (two per entry) and `artists` members."""
    import time

    rng = random.Random(seed)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    User = get_user_model()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=days)
    if admin is None:
        # An operator (superuser: every role in every program), who creates the program and
        # reviews and pays through the services as v1's admin did.
        admin = User.objects.create_user(
            username=f"bench-admin-{seed}-{next_id(User)}", password=None, is_superuser=True
        )
    program = services.create_program(
        actor=admin, name=name or f"Bench program {seed}", currency=currency
    )
    services.add_rate_card(
        actor=admin,
        program=program,
        effective_from=(start - dt.timedelta(days=30)).date(),
        hourly_rate_minor=HOURLY_MINOR,
        bounties=BOUNTIES,
    )
    card_id = program.rate_cards.get().pk
    labor = Account.objects.get(program=program, kind=AccountKind.LABOR)
    cash = Account.objects.get(program=program, kind=AccountKind.CASH)
    cur = program.currency

    # Artists, memberships, payable accounts, balance rows (balances filled in below).
    first_user = next_id(User)
    artist_ids = list(range(first_user, first_user + artists))
    user_rows = [
        {
            "id": uid,
            "password": "!",
            "username": f"bench-{program.pk}-{i}",
            "display_name": f"Artist {program.pk}-{i}",
            "email": f"artist{program.pk}-{i}@bench.invalid",
            "is_active": True,
            "date_joined": start,
        }
        for i, uid in enumerate(artist_ids)
    ]
    first_account = next_id(Account)
    payable_ids = {uid: first_account + i for i, uid in enumerate(artist_ids)}
    code_of = {labor.pk: labor.code, cash.pk: cash.code}
    for uid, aid in payable_ids.items():
        code_of[aid] = f"Liabilities:Payable:P{program.pk}:A{uid}"
    assert code_of[payable_ids[artist_ids[0]]] == account_code(
        program, AccountKind.PAYABLE, User(pk=artist_ids[0])
    )
    balance = dict.fromkeys(code_of, 0)  # account id → balance (minor units, debit positive)
    totals = {uid: [0, 0, 0] for uid in artist_ids}  # valued, grants, settlements

    first_contribution = next_id(Contribution)
    first_payout = next_id(Payout)
    first_entry = next_id(Entry)
    first_posting = next_id(Posting)
    contributions: list[dict] = []
    payouts: list[dict] = []
    entries: list[dict] = []
    legs: list[dict] = []
    open_acceptances: list[int] = []  # entry indexes that may still be reversed
    open_payouts: list[int] = []
    head_hash, seq = GENESIS_HASH, 0

    def post(kind, posted_at, memo, lines, contribution_id=None, payout_id=None, reverses=None):
        nonlocal head_hash, seq
        seq += 1
        entry_id = first_entry + len(entries)
        day = posted_at.date()
        content = canonical_content(
            program_id=program.pk,
            seq=seq,
            kind=kind,
            contribution_id=contribution_id,
            payout_id=payout_id,
            reverses_hash=entries[reverses]["hash"] if reverses is not None else None,
            memo=memo,
            posted_at=posted_at,
            effective_date=day,
            postings=[(code_of[a], amount, cur) for a, amount in lines],
        )
        digest = chain_hash(head_hash, content)
        entries.append(
            {
                "id": entry_id,
                "program_id": program.pk,
                "seq": seq,
                "kind": kind,
                "contribution_id": contribution_id,
                "payout_id": payout_id,
                "reverses_id": first_entry + reverses if reverses is not None else None,
                "memo": memo,
                "posted_at": posted_at,
                "effective_date": day,
                "created_by_id": admin.pk,
                "prev_hash": head_hash,
                "hash": digest,
                "_lines": lines,
            }
        )
        for account_id, amount in lines:
            legs.append(
                {
                    "id": first_posting + len(legs),
                    "entry_id": entry_id,
                    "program_id": program.pk,
                    "account_id": account_id,
                    "amount_minor": amount,
                    "currency": cur,
                }
            )
            balance[account_id] += amount
        head_hash = digest
        return len(entries) - 1

    def new_contribution(uid, when, status, **extra):
        kind = "feedback" if rng.random() < 0.6 else "bug_report"
        if kind == "feedback":
            hours = Decimal(rng.randint(1, 32)) / 4
            severity, value = None, value_of_hours(hours, HOURLY_MINOR)
        else:
            hours, severity = None, rng.choice(SEVERITIES)
            value = BOUNTIES[severity]
        row = {
            "id": first_contribution + len(contributions),
            "program_id": program.pk,
            "artist_id": uid,
            "kind": kind,
            "title": f"{'Feedback session' if hours else 'Bug'} {len(contributions)}",
            "description": "",
            "occurred_on": (when - dt.timedelta(days=rng.randint(0, 10))).date(),
            "hours": hours,
            "severity": severity,
            "reference": "",
            "status": status,
            "estimate_minor": value,
            "value_minor": value if status != "submitted" else None,
            "submitted_at": when - dt.timedelta(hours=1),
            "submitted_by_id": uid,
            "review_note": "",
            "close_reason": "",
        } | extra
        contributions.append(row)
        return row, value

    n_entries = max(postings // 2, 1)
    step = (now - start - dt.timedelta(days=2)) / n_entries
    for i in range(n_entries):
        posted_at = start + step * i + dt.timedelta(microseconds=rng.randint(0, 999_999))
        roll = rng.random()
        uid = rng.choice(artist_ids)
        payable = payable_ids[uid]
        if roll < 0.02 and open_acceptances:  # reverse accepted work
            k = open_acceptances.pop(rng.randrange(len(open_acceptances)))
            original = entries[k]
            row = contributions[original["contribution_id"] - first_contribution]
            row.update(
                status="reversed",
                closed_at=posted_at,
                closed_by_id=admin.pk,
                close_reason="Duplicate report",
            )
            totals[row["artist_id"]][0] -= row["value_minor"]
            post(
                "reversal",
                posted_at,
                f"Reversed: {row['title']}"[:300],
                [(a, -amount) for a, amount in original["_lines"]],
                contribution_id=row["id"],
                reverses=k,
            )
        elif 0.02 <= roll < 0.03 and open_payouts:  # void a payout
            k = open_payouts.pop(rng.randrange(len(open_payouts)))
            original = entries[k]
            row = payouts[original["payout_id"] - first_payout]
            row.update(
                status="void", voided_at=posted_at, voided_by_id=admin.pk, void_reason="Twice"
            )
            totals[row["artist_id"]][1 if row["kind"] == "grant" else 2] -= row["amount_minor"]
            post(
                "void",
                posted_at,
                f"Void of {row['kind']} #{row['id']}",
                [(a, -amount) for a, amount in original["_lines"]],
                payout_id=row["id"],
                reverses=k,
            )
        elif roll < 0.70:  # accept work
            row, value = new_contribution(
                uid,
                posted_at,
                "accepted",
                rate_card_id=card_id,
                reviewed_at=posted_at,
                reviewed_by_id=admin.pk,
                accepted_on=posted_at.date(),
            )
            totals[uid][0] += value
            k = post(
                "acceptance",
                posted_at,
                f"Accepted {'feedback' if row['kind'] == 'feedback' else 'bug report'}: "
                f"{row['title']}"[:300],
                [(labor.pk, value), (payable, -value)],
                contribution_id=row["id"],
            )
            open_acceptances.append(k)
        else:  # pay: a settlement of part of what is owed, or a grant
            owed = -balance[payable]
            if owed > 0 and rng.random() < 0.7:
                kind, amount = "settlement", rng.randint(1, owed)
            else:
                kind, amount = "grant", rng.randint(1, 50) * 1000
            payout_id = first_payout + len(payouts)
            payouts.append(
                {
                    "id": payout_id,
                    "program_id": program.pk,
                    "artist_id": uid,
                    "kind": kind,
                    "amount_minor": amount,
                    "paid_on": posted_at.date(),
                    "method": "bank transfer",
                    "status": "paid",
                    "created_at": posted_at,
                    "created_by_id": admin.pk,
                }
            )
            totals[uid][1 if kind == "grant" else 2] += amount
            k = post(
                "payout",
                posted_at,
                f"{kind.title()} paid",
                [(payable, amount), (cash.pk, -amount)],
                payout_id=payout_id,
            )
            open_payouts.append(k)
    assert len(entries) == n_entries

    # Work for the posting benchmarks (see the module docstring).
    today = now.date()
    pending_ids, reserved_ids = [], []
    for _ in range(pending):
        row, _value = new_contribution(rng.choice(artist_ids), now, "submitted")
        row["occurred_on"] = today - dt.timedelta(days=1)
        pending_ids.append(row["id"])
    for _ in range(reserved):
        uid = rng.choice(artist_ids)
        row, value = new_contribution(
            uid,
            now,
            "accepted",
            rate_card_id=card_id,
            reviewed_at=now,
            reviewed_by_id=admin.pk,
            accepted_on=today,
        )
        row["occurred_on"] = today - dt.timedelta(days=1)
        totals[uid][0] += value
        reserved_ids.append(row["id"])
    timings["generate"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    versions = dict.fromkeys(code_of, 0)  # entries applied to each account
    for entry in entries:
        for account_id in {a for a, _amount in entry.pop("_lines")}:
            versions[account_id] += 1
    copy_in_chunks(User, user_rows)
    copy_in_chunks(
        Membership,
        [
            {
                "program_id": program.pk,
                "artist_id": uid,
                "joined_at": start,
                "valued_minor": totals[uid][0],
                "grants_minor": totals[uid][1],
                "settlements_minor": totals[uid][2],
            }
            for uid in artist_ids
        ],
    )
    copy_in_chunks(
        Account,
        [
            {
                "id": aid,
                "program_id": program.pk,
                "artist_id": uid,
                "kind": AccountKind.PAYABLE,
                "currency": cur,
                "code": code_of[aid],
            }
            for uid, aid in payable_ids.items()
        ],
    )
    copy_in_chunks(
        AccountBalance,
        [
            {
                "account_id": aid,
                "program_id": program.pk,
                "balance_minor": balance[aid],
                "version": versions[aid],
                "updated_at": now,
            }
            for aid in payable_ids.values()
        ],
    )
    copy_in_chunks(Contribution, contributions)
    copy_in_chunks(Payout, payouts)
    # An entry and its postings go in the same transaction.
    per_chunk = CHUNK_ROWS // 2
    entry_copier, leg_copier = Copier(Entry), Copier(Posting)
    for start_i in range(0, len(entries), per_chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            entry_copier.copy(entries[start_i : start_i + per_chunk], cursor)
            leg_copier.copy(legs[2 * start_i : 2 * (start_i + per_chunk)], cursor)
    for model in (User, Membership, Account, Contribution, Payout, Entry, Posting):
        reset_sequence(model)
    with transaction.atomic():
        for aid in (labor.pk, cash.pk):
            AccountBalance.objects.filter(account_id=aid).update(
                balance_minor=balance[aid], version=versions[aid]
            )
        LedgerHead.objects.filter(program=program).update(seq=seq, hash=head_hash)
    timings["copy"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    with connection.cursor() as cursor:
        for model in (User, *LOADED_MODELS):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    check_loaded(program)
    timings["check"] = time.perf_counter() - t2
    return Built(
        program=program,
        admin=admin,
        artist_ids=artist_ids,
        payable_ids=payable_ids,
        entries=len(entries),
        postings=len(legs),
        pending_ids=pending_ids,
        reserved_ids=reserved_ids,
        seconds=timings,
    )
