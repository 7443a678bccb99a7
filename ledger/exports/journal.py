"""A program's journal as plain text for hledger or beancount, streamed.

Every entry with its postings, dated by `effective_date`, narrated by its memo, tagged with its
chain position (`seq`), `kind` and `hash` (an adjustment also with `adjusts`, the `seq` of the
acceptance it adjusts, and `dispute`, the id of the dispute that decided it); every account
declared with the program's currency; and at the end one balance assertion per account equal
to the app's own balance row, so the outside tool checks the app's balances against the
postings. Amounts carry exactly the currency's
minor digits (`format_minor`), never a float.

Consistency: the chain head and every balance row are read by one SQL statement (one snapshot),
and only entries up to that head are written, so assertions and postings always agree even
while new entries are being posted. Postings are read in chain order a chunk of entries at a
time (`queries.entries.chain_postings`), so memory does not grow with the ledger; postings up
to the head never change, so the chunks need no common snapshot (and no transaction is held
open while a slow client reads).
"""

import datetime as dt
import re
from collections.abc import Iterator
from itertools import groupby

from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from ledger import clock
from ledger.models import AccountBalance, Entry, LedgerHead, Program
from ledger.money import exponent, format_minor
from ledger.queries.entries import chain_postings

FORMATS = ("hledger", "beancount")

# Valid for both tools: a beancount root, then components starting with a capital or a digit.
_ACCOUNT_RE = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_FLUSH_AT = 64 * 1024  # characters buffered before a chunk is yielded

_COLUMNS = (
    "entry_id",
    "entry__seq",
    "entry__kind",
    "entry__effective_date",
    "entry__memo",
    "entry__hash",
    "account__code",
    "amount_minor",
    "entry__adjusts__seq",
    "entry__dispute_id",
)


def check_account_name(code: str) -> str:
    """Return `code` if both hledger and beancount accept it as an account name."""
    if not _ACCOUNT_RE.match(code):
        raise ValueError(f"{code!r} is not a valid hledger/beancount account name.")
    return code


def one_line(text: str) -> str:
    return _CONTROL_RE.sub(" ", text or "").strip()


def hledger_text(text: str) -> str:
    # A ";" would start a comment in an hledger description.
    return one_line(text).replace(";", ",")


def beancount_string(text: str) -> str:
    escaped = one_line(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _snapshot(program: Program):
    """(head seq, head hash, [(account code, balance minor)]) from one statement."""
    head = LedgerHead.objects.filter(program_id=OuterRef("program_id"))
    rows = list(
        AccountBalance.objects.filter(program=program)
        .annotate(
            head_seq=Subquery(head.values("seq")[:1]),
            head_hash=Subquery(head.values("hash")[:1]),
        )
        .order_by("account__code")
        .values_list("account__code", "balance_minor", "head_seq", "head_hash")
    )
    if not rows:
        return 0, None, []
    seq, head_hash = rows[0][2] or 0, rows[0][3]
    return seq, head_hash if seq else None, [(code, bal) for code, bal, _s, _h in rows]


def stream_journal(program: Program, fmt: str, *, chunk_size: int = 2000) -> Iterator[str]:
    """Yield the journal of `program` in `fmt` ("hledger" or "beancount") as text chunks."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown journal format {fmt!r}; use hledger or beancount.")
    cur = program.currency
    head_seq, head_hash, balances = _snapshot(program)
    for code, _balance in balances:
        check_account_name(code)
    entries = Entry.objects.filter(program=program, seq__lte=head_seq)
    first_day = entries.aggregate(first=Min("effective_date"))["first"]
    last_day = entries.order_by("-effective_date").values_list("effective_date", flat=True)
    last_day = last_day.first()
    if first_day is None:
        first_day = last_day = timezone.localdate(program.created_at)
    places = exponent(cur)
    zero = format_minor(0, cur)
    render = _hledger_entry if fmt == "hledger" else _beancount_entry

    buffer: list[str] = []
    size = 0

    def put(text: str):
        nonlocal size
        buffer.append(text)
        size += len(text)

    def flush() -> str:
        nonlocal size
        text = "".join(buffer)
        buffer.clear()
        size = 0
        return text

    put(f"; Journal of program {program.pk}: {one_line(program.name)} ({cur})\n")
    put(f"; Exported {clock.now().astimezone(dt.UTC).isoformat(timespec='seconds')}\n")
    put(f"; Chain head: seq {head_seq}, hash {head_hash or '-'}\n\n")
    if fmt == "hledger":
        put("decimal-mark .\n")
        # hledger wants a decimal mark in the format even for a currency without minor digits.
        sample = format_minor(10**places * 1000, cur) + ("" if places else ".")
        put(f"commodity {sample} {cur}\n\n")
        for code, _balance in balances:
            put(f"account {code}\n")
    else:
        put(f"option {beancount_string('title')} {beancount_string(program.name)}\n")
        put(f'option "operating_currency" "{cur}"\n\n')
        put(f"{first_day.isoformat()} commodity {cur}\n")
        for code, _balance in balances:
            put(f"{first_day.isoformat()} open {code} {cur}\n")
    put("\n")

    rows = chain_postings(program, _COLUMNS, up_to_seq=head_seq, chunk_size=chunk_size)
    for _entry_id, legs in groupby(rows, key=lambda row: row[0]):
        legs = list(legs)
        _id, seq, kind, day, memo, entry_hash, _code, _amount, adjusts, dispute = legs[0]
        links = {"adjusts": adjusts, "dispute": dispute} if adjusts else {}
        put(render(seq, kind, day, memo, entry_hash, [(r[6], r[7]) for r in legs], cur, links))
        if size >= _FLUSH_AT:
            yield flush()

    if fmt == "hledger":
        put(f"{last_day.isoformat()} * Balance assertions: the ledger at seq {head_seq}\n")
        for code, balance in balances:
            put(f"    {code}  {zero} {cur} = {format_minor(balance, cur)} {cur}\n")
    else:
        # beancount checks a balance at the start of its day: the day after the last entry.
        # "~ 0": an exact check (by default beancount tolerates one unit of the last digit).
        as_of = (last_day + dt.timedelta(days=1)).isoformat()
        put(f"; The ledger's balances at seq {head_seq}\n")
        for code, balance in balances:
            put(f"{as_of} balance {code}  {format_minor(balance, cur)} ~ 0 {cur}\n")
    yield flush()


def _hledger_entry(seq, kind, day, memo, entry_hash, legs, cur, links) -> str:
    tags = f"seq:{seq}, kind:{kind}, hash:{entry_hash}"
    tags += "".join(f", {name}:{value}" for name, value in links.items())
    lines = [f"{day.isoformat()} * ({seq}) {hledger_text(memo)}  ; {tags}"]
    lines += [f"    {code}  {format_minor(amount, cur)} {cur}" for code, amount in legs]
    return "\n".join(lines) + "\n\n"


def _beancount_entry(seq, kind, day, memo, entry_hash, legs, cur, links) -> str:
    lines = [
        f"{day.isoformat()} * {beancount_string(memo)}",
        f"  seq: {seq}",
        f'  kind: "{kind}"',
        f'  hash: "{entry_hash}"',
    ]
    lines += [f"  {name}: {value}" for name, value in links.items()]
    lines += [f"  {code}  {format_minor(amount, cur)} {cur}" for code, amount in legs]
    return "\n".join(lines) + "\n\n"
