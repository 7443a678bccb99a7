"""Check a statement someone holds against the ledger's hash chain.

A statement carries `head_hash`: the hash of the last entry it includes. To verify it, that
entry must be in the program's chain; the chain from genesis up to it must recompute hash by
hash; and the statement recomputed for the same artist, program and period from the postings
as of that entry must give the same lines and balances. The first discrepancy is reported.

Input: the statement as the API returns it (JSON: `{artist, program, currency, from, to,
opening_balance, closing_balance, head_hash, lines: [{date, kind, description, amount,
balance, payout, acknowledged}]}`, money as strings; `payout` and `acknowledged` are not
checked: a confirmation is the artist's word, not an entry of the chain), or the statement
CSV. The CSV names no artist, program or period: they are taken from its lines (the entries
their hashes name, the first and last dates), and the checkpoint is the line entry latest in
the chain.
"""

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from django.db.models import Max, Sum
from django.db.models.functions import Coalesce

from ledger.models import AccountKind, Entry, Posting, Program
from ledger.money import format_minor, parse_minor
from ledger.queries import Statement
from ledger.queries.rows import keyset_rows
from ledger.verify import walk_chain


@dataclass
class CheckResult:
    ok: bool
    problem: str | None = None
    entries_checked: int = 0  # chain entries recomputed, genesis to the checkpoint
    head_seq: int | None = None

    def __str__(self):
        if self.ok:
            return f"ok: statement matches the chain at seq {self.head_seq}"
        return f"FAILED: {self.problem}"


class Discrepancy(Exception):
    pass


def statement_json(statement: Statement) -> dict:
    """A statement in the API's shape (ids, ISO dates, money strings)."""
    cur = statement.currency
    return {
        "artist": statement.artist.pk,
        "program": statement.program.pk,
        "currency": cur,
        "from": statement.date_from.isoformat() if statement.date_from else None,
        "to": statement.date_to.isoformat() if statement.date_to else None,
        "opening_balance": format_minor(statement.opening_minor, cur),
        "closing_balance": format_minor(statement.closing_minor, cur),
        "head_hash": statement.head_hash,
        "lines": [
            {
                "date": line.date.isoformat(),
                "kind": line.kind,
                "description": line.description,
                "amount": format_minor(line.amount_minor, cur),
                "balance": format_minor(line.balance_minor, cur),
                "payout": line.payout_id,
                "acknowledged": line.acknowledged,
            }
            for line in statement.lines
        ],
    }


def verify_statement(data) -> CheckResult:
    """Verify a statement (a dict, JSON text or statement CSV text) against the chain."""
    result = CheckResult(ok=False)
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8-sig")
        if isinstance(data, str):
            data = json.loads(data) if data.lstrip().startswith("{") else statement_from_csv(data)
        _verify(data, result)
    except Discrepancy as problem:
        result.problem = str(problem)
        return result
    except (KeyError, TypeError, ValueError) as error:
        result.problem = f"not a statement: {error}"
        return result
    result.ok = True
    return result


def _signed_minor(text, currency: str, what: str) -> int:
    if not isinstance(text, str):
        raise Discrepancy(f"{what}: money must be a string, not {text!r}")
    negative = text.startswith("-")
    try:
        minor = parse_minor(text[1:] if negative else text, currency, allow_zero=True)
    except ValueError as error:
        raise Discrepancy(f"{what}: {error}") from None
    return -minor if negative else minor


def _date(value, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise Discrepancy(f"{what}: {value!r} is not a YYYY-MM-DD date") from None


def _verify(data: dict, result: CheckResult) -> None:
    program = Program.objects.filter(pk=int(str(data["program"]))).first()
    if program is None:
        raise Discrepancy(f"program {data['program']} does not exist")
    cur = program.currency
    if data["currency"] != cur:
        raise Discrepancy(f"currency {data['currency']} differs from the program's {cur}")
    artist_id = int(str(data["artist"]))
    date_from, date_to = _date(data.get("from"), "from"), _date(data.get("to"), "to")

    head_hash = data["head_hash"]
    head_seq = 0
    if head_hash:
        head = Entry.objects.filter(program=program, hash=head_hash).values_list("seq").first()
        if head is None:
            raise Discrepancy(f"head hash {head_hash} is not in the chain of program {program.pk}")
        head_seq = head[0]
    result.head_seq = head_seq
    result.entries_checked = verify_chain(program, head_seq)

    payable = Posting.objects.filter(
        account__program=program,
        account__artist_id=artist_id,
        account__kind=AccountKind.PAYABLE,
        entry__seq__lte=head_seq,
    )
    if date_to is not None:
        payable = payable.filter(entry__effective_date__lte=date_to)
    last_seq = payable.aggregate(last=Max("entry__seq"))["last"] or 0
    if last_seq != head_seq:
        raise Discrepancy(
            f"head hash is entry seq {head_seq}, but the last entry this statement includes "
            f"is seq {last_seq}"
        )
    opening = 0
    in_period = payable
    if date_from is not None:
        before = payable.filter(entry__effective_date__lt=date_from)
        opening = -before.aggregate(total=Coalesce(Sum("amount_minor"), 0))["total"]
        in_period = payable.filter(entry__effective_date__gte=date_from)
    _compare("opening balance", data["opening_balance"], opening, cur)

    claimed = data["lines"]
    running = opening
    rows = keyset_rows(
        in_period.values_list(
            "entry__effective_date", "entry__kind", "entry__memo", "amount_minor",
            "entry__seq", "id",
        ),
        ("entry__effective_date", "entry__seq", "id"),
    )  # fmt: skip
    count = 0
    for count, (day, kind, memo, amount, _seq, _id) in enumerate(rows, 1):
        running -= amount
        if count > len(claimed):
            raise Discrepancy(
                f"line {count} ({day.isoformat()}, {kind}) is in the ledger, "
                "missing from the statement"
            )
        line = claimed[count - 1]
        where = f"line {count}"
        if _date(line["date"], where) != day:
            raise Discrepancy(f"{where}: date {line['date']}, the ledger has {day.isoformat()}")
        if line["kind"] != kind:
            raise Discrepancy(f"{where}: kind {line['kind']!r}, the ledger has {kind!r}")
        if line["description"] != memo:
            raise Discrepancy(f"{where}: description differs from the ledger's {memo!r}")
        _compare(f"{where} amount", line["amount"], -amount, cur)
        _compare(f"{where} balance", line["balance"], running, cur)
    if len(claimed) > count:
        raise Discrepancy(f"line {count + 1} of the statement is not in the ledger")
    _compare("closing balance", data["closing_balance"], running, cur)


def _compare(what: str, claimed, actual_minor: int, cur: str) -> None:
    if _signed_minor(claimed, cur, what) != actual_minor:
        raise Discrepancy(
            f"{what}: {claimed} in the statement, {format_minor(actual_minor, cur)} in the ledger"
        )


def verify_chain(program: Program, up_to_seq: int, *, chunk_size: int = 5000) -> int:
    """Recompute the chain from genesis to `up_to_seq`; return the entries checked."""
    checked = 0
    for step in walk_chain(program, up_to_seq=up_to_seq, chunk_size=chunk_size):
        if step.problems:
            raise Discrepancy(f"chain: {step.problems[0]}")
        checked += 1
    if checked != up_to_seq:
        raise Discrepancy(f"chain: entry seq {checked + 1} is missing")
    return up_to_seq


_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r")


def statement_from_csv(text: str) -> dict:
    """The statement CSV (see `statement_csv`) in the JSON shape, with what its lines imply."""
    table = list(csv.DictReader(io.StringIO(text)))
    if not table:
        raise Discrepancy("the CSV statement has no lines to check")
    hashes = {row["entry_hash"] for row in table}
    entries = {
        e.hash: e
        for e in Entry.objects.filter(hash__in=hashes).prefetch_related("postings__account")
    }
    missing = hashes - entries.keys()
    if missing:
        raise Discrepancy(f"entry hash {sorted(missing)[0]} is not in any chain")
    first = entries[table[0]["entry_hash"]]
    artist_ids = {
        p.account.artist_id for p in first.postings.all() if p.account.kind == AccountKind.PAYABLE
    }
    if len(artist_ids) != 1:
        raise Discrepancy("the first line's entry does not name one artist")
    currency = table[0]["currency"]
    if any(e.program_id != first.program_id for e in entries.values()):
        raise Discrepancy("the lines name entries of more than one program")
    head = max(entries.values(), key=lambda e: e.seq)
    amount = _signed_minor(table[0]["amount"], currency, "line 1 amount")
    balance = _signed_minor(table[0]["balance"], currency, "line 1 balance")
    return {
        "artist": artist_ids.pop(),
        "program": first.program_id,
        "currency": currency,
        "from": table[0]["date"],
        "to": table[-1]["date"],
        "opening_balance": format_minor(balance - amount, currency),
        "closing_balance": table[-1]["balance"],
        "head_hash": head.hash,
        "lines": [
            {
                "date": row["date"],
                "kind": row["kind"],
                "description": row["description"][1:]
                if row["description"].startswith(_NEUTRALISED)
                else row["description"],
                "amount": row["amount"],
                "balance": row["balance"],
            }
            for row in table
        ],
    }
