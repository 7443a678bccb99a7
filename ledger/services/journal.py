"""Posting to the journal: the one function that moves money between accounts.

Lock order, always the same so two postings cannot deadlock: the program's `LedgerHead`
(which also serialises the program's hash chain), then the affected `AccountBalance` rows in
ascending account id. Checks (such as "a settlement may not overdraw the payable") run after
the locks and before any write, so they see the final word on the balance.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from ledger import clock
from ledger.hashing import canonical_content, chain_hash
from ledger.models import (
    Account,
    AccountBalance,
    AccountKind,
    Entry,
    LedgerHead,
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
    kind, in one query: what an acceptance or a payout posts to.

    Plain SQL, like `post_entry`: every write runs it, and the ORM's compile was most of its cost.
    """
    artist_id = getattr(artist, "pk", artist)
    with connection.cursor() as cursor:
        cursor.execute(_SELECT_ENTRY_ACCOUNTS, [program.pk, AccountKind.PAYABLE.value, artist_id])
        rows = cursor.fetchall()
    accounts = {}
    for pk, kind, account_artist_id, currency, code in rows:
        account = Account(
            id=pk,
            program=program,
            kind=kind,
            artist_id=account_artist_id,
            currency=currency,
            code=code,
        )
        account._state.adding, account._state.db = False, connection.alias
        accounts[kind] = account
    if AccountKind.PAYABLE not in accounts:
        raise Account.DoesNotExist("The artist has no payable account in this program.")
    return accounts


_SELECT_ENTRY_ACCOUNTS = (
    "SELECT id, kind, artist_id, currency, code FROM ledger_account WHERE program_id = %s "
    "AND (artist_id IS NULL OR (kind = %s AND artist_id = %s))"
)

# The running totals of a membership (minor units) that move with each kind of entry.
_ADD_TO_TOTAL = {
    "valued_minor": "UPDATE ledger_membership SET valued_minor = valued_minor + %s "
    "WHERE program_id = %s AND artist_id = %s",
    "grants_minor": "UPDATE ledger_membership SET grants_minor = grants_minor + %s "
    "WHERE program_id = %s AND artist_id = %s",
    "settlements_minor": "UPDATE ledger_membership SET settlements_minor = settlements_minor + %s "
    "WHERE program_id = %s AND artist_id = %s",
}


@dataclass(frozen=True)
class Total:
    """A membership running total (`_ADD_TO_TOTAL`'s columns) that moves with an entry: the
    O(1) figures beside the journal, which verify_ledger recomputes from the postings."""

    artist_id: int
    column: str
    amount_minor: int


_SELECT_HEAD = "SELECT seq, hash FROM ledger_ledgerhead WHERE program_id = %s"
_SELECT_BALANCES = "SELECT account_id, balance_minor FROM ledger_accountbalance"
# Each table's columns are listed once; both write paths below are built from these lists,
# and the parameters from the same lists by name, so a new column cannot shift the values.
_ENTRY_COLUMNS = (
    "program_id",
    "seq",
    "kind",
    "contribution_id",
    "payout_id",
    "reverses_id",
    "adjusts_id",
    "dispute_id",
    "memo",
    "posted_at",
    "effective_date",
    "created_by_id",
    "prev_hash",
    "hash",
)
_POSTING_COLUMNS = ("entry_id", "program_id", "account_id", "amount_minor", "currency")
# The SQL below is assembled from these constants and placeholders only, never from a value.
_INSERT_ENTRY = (
    f"INSERT INTO ledger_entry ({', '.join(_ENTRY_COLUMNS)}) "  # noqa: S608  # nosec B608
    f"VALUES ({', '.join(['%s'] * len(_ENTRY_COLUMNS))}) RETURNING id"
)


def _insert_postings(entry_id: str, source: str) -> str:
    """The postings INSERT, one row per leg: the entry's id from `entry_id` (a placeholder, or
    the CTE's `entry.id` with `source` naming the CTE), then program, account, amount, currency
    in `_POSTING_COLUMNS` order. `{legs}` is filled with placeholders only: an (account,
    amount) row per line; VALUES names its columns column1 and column2 on both databases."""
    return (
        f"INSERT INTO ledger_posting ({', '.join(_POSTING_COLUMNS)}) "  # noqa: S608  # nosec B608
        f"SELECT {entry_id}, %s, leg.column1, leg.column2, %s "
        f"FROM {source}(VALUES {{legs}}) AS leg"
    )


_INSERT_POSTINGS = _insert_postings("%s", "")
# {cases} and {ids} are filled with placeholders only: a CASE branch per account, the ids.
_UPDATE_BALANCES = (
    "UPDATE ledger_accountbalance SET balance_minor = balance_minor + CASE account_id {cases} "
    "END, version = version + 1, updated_at = %s WHERE account_id {ids}"
)
_UPDATE_HEAD = "UPDATE ledger_ledgerhead SET seq = %s, hash = %s WHERE program_id = %s"
# PostgreSQL: the same four writes as one statement (the statements above, as CTEs).
_WRITE_ENTRY_PG = (
    f"WITH entry AS ({_INSERT_ENTRY}), "  # noqa: S608  # nosec B608
    f"postings AS ({_insert_postings('entry.id', 'entry, ')}), "
    f"balances AS ({_UPDATE_BALANCES}), "
    f"head AS ({_UPDATE_HEAD})"
    "{total} SELECT id FROM entry"
)
# The membership total as one more CTE of that statement, by column (constants only).
_TOTAL_CTE = {column: f", total AS ({sql})" for column, sql in _ADD_TO_TOTAL.items()}


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
    adjusts: Entry | None = None,
    dispute=None,
    check: Callable[[dict[int, int]], None] | None = None,
    total: Total | None = None,
) -> Entry:
    """Append one balanced entry to the program's chain and update the balances it touches,
    and the membership `total` that moves with it. An adjustment names the entry it
    `adjusts` (an acceptance) and the `dispute` whose decision it posts.

    `check` receives the locked balances (minor units, by account id) and may raise to refuse
    the entry before anything is written. Callers run it inside their own atomic block (the
    services do), so it takes no savepoint of its own: an error rolls back to theirs.

    Written in SQL, six statements, because it is the one hot path of every write: through the
    ORM the same statements cost about four times as much Python as the database spends on
    them (docs/PERFORMANCE.md). The SQL is plain enough for PostgreSQL and SQLite; on SQLite,
    which has no row locks, the IMMEDIATE transaction serialises writers instead.
    """
    if len(lines) < 2 or sum(line.amount_minor for line in lines) != 0:
        raise ValueError("An entry needs at least two postings summing to zero.")
    if any(line.amount_minor == 0 for line in lines):
        raise ValueError("A posting may not be zero.")
    if total is not None and total.column not in _ADD_TO_TOTAL:
        raise ValueError(f"No membership total {total.column!r}.")
    ops = connection.ops
    deltas: dict[int, int] = defaultdict(int)  # minor units, by account id
    for line in lines:
        deltas[line.account.pk] += line.amount_minor
    account_ids = sorted(deltas)
    # Only placeholders and this suffix are formatted into the SQL below, never a value.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    in_ids = f"IN ({', '.join(['%s'] * len(account_ids))})"
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"{_SELECT_HEAD}{lock}", [program.pk])
        head = cursor.fetchone()
        if head is None:
            raise LedgerHead.DoesNotExist("The program has no ledger head.")
        head_seq, prev_hash = head
        cursor.execute(
            f"{_SELECT_BALANCES} WHERE account_id {in_ids} ORDER BY account_id{lock}",
            account_ids,
        )
        balances = dict(cursor.fetchall())
        if len(balances) != len(account_ids):
            raise AccountBalance.DoesNotExist("An account of this entry has no balance row.")
        if check is not None:
            check(balances)

        posted_at = clock.now()
        seq = head_seq + 1
        currency = program.currency
        legs = [(line.account.code, line.amount_minor, currency) for line in lines]
        fields = {
            "program_id": program.pk,
            "seq": seq,
            "kind": kind,
            "contribution_id": contribution.pk if contribution else None,
            "payout_id": payout.pk if payout else None,
            "reverses_id": reverses.pk if reverses else None,
            "adjusts_id": adjusts.pk if adjusts else None,
            "dispute_id": dispute.pk if dispute else None,
            "memo": memo,
            "posted_at": posted_at,
            "effective_date": effective_date,
            "created_by_id": actor.pk if actor is not None else None,
            "prev_hash": prev_hash,
        }
        fields["hash"] = chain_hash(
            prev_hash,
            canonical_content(
                program_id=program.pk,
                seq=seq,
                kind=kind,
                contribution_id=fields["contribution_id"],
                payout_id=fields["payout_id"],
                reverses_hash=reverses.hash if reverses else None,
                memo=memo,
                posted_at=posted_at,
                effective_date=effective_date,
                postings=legs,
                adjusts_hash=adjusts.hash if adjusts else None,
                dispute_id=fields["dispute_id"],
            ),
        )
        stored_at = ops.adapt_datetimefield_value(posted_at)
        # The row as the database takes it: the two dates adapted as the ORM adapts them.
        stored = fields | {
            "posted_at": stored_at,
            "effective_date": ops.adapt_datefield_value(effective_date),
        }
        entry_params = [stored[column] for column in _ENTRY_COLUMNS]
        placeholders = {
            "legs": ", ".join(["(%s, %s)"] * len(lines)),
            "cases": " ".join(["WHEN %s THEN %s"] * len(account_ids)),
            "ids": in_ids,
        }
        # After the entry's id: program, currency, then (account, amount) per leg.
        posting_params = [
            program.pk,
            currency,
            *(value for line in lines for value in (line.account.pk, line.amount_minor)),
        ]
        balance_params = [
            *(value for pk in account_ids for value in (pk, deltas[pk])),
            stored_at,
            *account_ids,
        ]
        head_params = [seq, fields["hash"], program.pk]
        total_params = [] if total is None else [total.amount_minor, program.pk, total.artist_id]
        if connection.vendor == "postgresql":
            # The four writes in one round trip (data-modifying CTEs); the deferred triggers
            # still check at commit that the entry balances.
            cursor.execute(
                _WRITE_ENTRY_PG.format(
                    **placeholders, total=_TOTAL_CTE[total.column] if total else ""
                ),
                [
                    *entry_params,
                    *posting_params,
                    *balance_params,
                    *head_params,
                    *total_params,
                ],
            )
            (entry_id,) = cursor.fetchone()
        else:
            cursor.execute(_INSERT_ENTRY, entry_params)
            (entry_id,) = cursor.fetchone()
            cursor.execute(_INSERT_POSTINGS.format(**placeholders), [entry_id, *posting_params])
            cursor.execute(_UPDATE_BALANCES.format(**placeholders), balance_params)
            cursor.execute(_UPDATE_HEAD, head_params)
            if total is not None:
                cursor.execute(_ADD_TO_TOTAL[total.column], total_params)
    entry = Entry(id=entry_id, **fields)
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


def post_mirror(
    *,
    original: Entry,
    kind: str,
    memo: str,
    effective_date,
    actor,
    total: Total | None = None,
    also: list[Entry] | tuple = (),
) -> Entry:
    """Post the mirror of `original` (every posting negated), linked to it. With `also` (the
    adjustments of an acceptance), the mirror of them all netted per account, so the whole
    current value is undone in one entry and the accounts return to where they were."""
    net: dict[int, int] = {}  # account id → minor units, in the order first posted
    accounts: dict[int, Account] = {}
    for entry in (original, *also):
        for p in entry.postings.select_related("account").order_by("id"):
            net[p.account_id] = net.get(p.account_id, 0) + p.amount_minor
            accounts[p.account_id] = p.account
    lines = [
        Line(account=accounts[pk], amount_minor=-amount) for pk, amount in net.items() if amount
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
        total=total,
    )
