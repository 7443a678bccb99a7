"""Posting to the journal: the one function that moves money between accounts.

Lock order, always the same so two postings cannot deadlock: the program's `LedgerHead`
(which also serialises the program's hash chain), then the affected `AccountBalance` rows in
ascending account id. Checks (such as "a settlement may not overdraw the payable") run after
the locks and before any write, so they see the final word on the balance.
"""

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When

from ledger import clock
from ledger.models import (
    Account,
    AccountBalance,
    AccountKind,
    Entry,
    LedgerHead,
    Posting,
    Program,
)


@dataclass(frozen=True)
class Line:
    account: Account
    amount_minor: int  # debit positive, credit negative; never zero


def account_code(program: Program, kind: str, artist=None) -> str:
    """Tool-friendly account names: hledger/beancount take them as they are."""
    if kind == AccountKind.LABOR:
        return f"Expenses:Labor:P{program.pk}"
    if kind == AccountKind.CASH:
        return f"Assets:Cash:P{program.pk}"
    return f"Liabilities:Payable:P{program.pk}:A{artist.pk}"


def open_account(*, program: Program, kind: str, artist=None) -> Account:
    """Create an account and its zero balance row (idempotent)."""
    account, created = Account.objects.get_or_create(
        program=program,
        kind=kind,
        artist=artist,
        defaults={"currency": program.currency, "code": account_code(program, kind, artist)},
    )
    if created:
        AccountBalance.objects.create(account=account, program=program)
    return account


def entry_accounts(program: Program, artist) -> dict[str, Account]:
    """The program's labor and cash accounts and `artist`'s payable (a user or its id), by
    kind, in one query: what an acceptance or a payout posts to."""
    artist_id = getattr(artist, "pk", artist)
    accounts = {
        a.kind: a
        for a in Account.objects.filter(
            Q(artist__isnull=True) | Q(kind=AccountKind.PAYABLE, artist_id=artist_id),
            program=program,
        )
    }
    if AccountKind.PAYABLE not in accounts:
        raise Account.DoesNotExist("The artist has no payable account in this program.")
    return accounts


def canonical_content(
    *,
    program_id: int,
    seq: int,
    kind: str,
    contribution_id: int | None,
    payout_id: int | None,
    reverses_hash: str | None,
    memo: str,
    posted_at,
    effective_date,
    postings: Iterable[tuple[str, int, str]],
) -> str:
    """The entry as canonical JSON: what its hash covers (postings sorted, UTC microseconds)."""
    return json.dumps(
        {
            "program": program_id,
            "seq": seq,
            "kind": kind,
            "contribution": contribution_id,
            "payout": payout_id,
            "reverses": reverses_hash,
            "memo": memo,
            "posted_at": posted_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "effective_date": effective_date.isoformat(),
            "postings": sorted(
                [code, int(amount), currency] for code, amount, currency in postings
            ),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


def entry_hash(entry: Entry, postings: Iterable[tuple[str, int, str]], reverses_hash=None) -> str:
    """Recompute an entry's hash from its stored fields and postings."""
    return chain_hash(
        entry.prev_hash,
        canonical_content(
            program_id=entry.program_id,
            seq=entry.seq,
            kind=entry.kind,
            contribution_id=entry.contribution_id,
            payout_id=entry.payout_id,
            reverses_hash=reverses_hash,
            memo=entry.memo,
            posted_at=entry.posted_at,
            effective_date=entry.effective_date,
            postings=postings,
        ),
    )


def post_entry(
    *,
    program: Program,
    kind: str,
    lines: list[Line],
    memo: str,
    effective_date,
    actor,
    contribution=None,
    payout=None,
    reverses: Entry | None = None,
    check: Callable[[dict[int, AccountBalance]], None] | None = None,
) -> Entry:
    """Append one balanced entry to the program's chain and update the balances it touches.

    `check` receives the locked balance rows (by account id) and may raise to refuse the
    entry before anything is written. Callers run it inside their own atomic block (the
    services do), so it takes no savepoint of its own: an error rolls back to theirs.
    """
    if len(lines) < 2 or sum(line.amount_minor for line in lines) != 0:
        raise ValueError("An entry needs at least two postings summing to zero.")
    if any(line.amount_minor == 0 for line in lines):
        raise ValueError("A posting may not be zero.")
    with transaction.atomic(savepoint=False):
        head = LedgerHead.objects.select_for_update().get(program=program)
        account_ids = sorted({line.account.pk for line in lines})
        balances = {
            b.account_id: b
            for b in AccountBalance.objects.select_for_update()
            .filter(account_id__in=account_ids)
            .order_by("account_id")
        }
        if check is not None:
            check(balances)

        posted_at = clock.now()
        seq = head.seq + 1
        legs = [(line.account.code, line.amount_minor, program.currency) for line in lines]
        content = canonical_content(
            program_id=program.pk,
            seq=seq,
            kind=kind,
            contribution_id=contribution.pk if contribution else None,
            payout_id=payout.pk if payout else None,
            reverses_hash=reverses.hash if reverses else None,
            memo=memo,
            posted_at=posted_at,
            effective_date=effective_date,
            postings=legs,
        )
        entry = Entry.objects.create(
            program=program,
            seq=seq,
            kind=kind,
            contribution=contribution,
            payout=payout,
            reverses=reverses,
            memo=memo,
            posted_at=posted_at,
            effective_date=effective_date,
            created_by=actor,
            prev_hash=head.hash,
            hash=chain_hash(head.hash, content),
        )
        Posting.objects.bulk_create(
            Posting(
                entry=entry,
                program=program,
                account=line.account,
                amount_minor=line.amount_minor,
                currency=program.currency,
            )
            for line in lines
        )
        deltas: dict[int, int] = defaultdict(int)
        for line in lines:
            deltas[line.account.pk] += line.amount_minor
        # One statement for all the rows (already locked); version counts entries applied.
        AccountBalance.objects.filter(account_id__in=account_ids).update(
            balance_minor=F("balance_minor")
            + Case(
                *(When(account_id=pk, then=Value(delta)) for pk, delta in deltas.items()),
                output_field=BigIntegerField(),
            ),
            version=F("version") + 1,
            updated_at=posted_at,
        )
        LedgerHead.objects.filter(pk=head.pk).update(seq=seq, hash=entry.hash)
    return entry


def post_mirror(*, original: Entry, kind: str, memo: str, effective_date, actor) -> Entry:
    """Post the exact mirror of `original` (every posting negated), linked to it."""
    lines = [
        Line(account=p.account, amount_minor=-p.amount_minor)
        for p in original.postings.select_related("account").order_by("id")
    ]
    return post_entry(
        program=original.program,
        kind=kind,
        lines=lines,
        memo=memo,
        effective_date=effective_date,
        actor=actor,
        contribution=original.contribution,
        payout=original.payout,
        reverses=original,
    )
