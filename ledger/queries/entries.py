"""Ledger entries a reader sees, and the monthly series the charts draw from them."""

from django.db import connection
from django.db.models import Exists, OuterRef, Q

from ledger import access
from ledger.models import (
    AccountKind,
    Entry,
    EntryKind,
    Posting,
    Program,
)

from .rows import KeysetRows, keyset_chunks

# Entries that move valued work (the rest, payouts and voids, move what was paid).
_VALUED_KINDS = {EntryKind.ACCEPTANCE, EntryKind.ADJUSTMENT, EntryKind.REVERSAL}


def monthly_series(program: Program, artist=None) -> list[tuple[str, int, int]]:
    """Cumulative (month "YYYY-MM", valued, paid) in minor units, for the charts."""
    entries = Posting.objects.filter(program=program, account__kind=AccountKind.PAYABLE)
    if artist is not None:
        entries = entries.filter(account__artist=artist)
    by_month: dict[str, list[int]] = {}
    for day, kind, amount in entries.values_list(
        "entry__effective_date", "entry__kind", "amount_minor"
    ).order_by("entry__effective_date"):
        bucket = by_month.setdefault(day.strftime("%Y-%m"), [0, 0])
        if kind in _VALUED_KINDS:
            bucket[0] -= amount  # credit to the payable = valued work
        else:
            bucket[1] += amount  # debit to the payable = paid
    series, valued, paid = [], 0, 0
    for month in sorted(by_month):
        valued += by_month[month][0]
        paid += by_month[month][1]
        series.append((month, valued, paid))
    return series


def visible_entries(user, *, program_id: int | None = None, artist_id: int | None = None):
    """Ledger entries `user` sees (`access.scope_of`), in chain order: optionally one
    program's, or only those touching one artist's accounts. Staff see every entry of their
    programs; an artist the entries touching its own accounts, so naming another artist in a
    program it is not staff of gives nothing."""
    scope = access.scope_of(user)
    entries = Entry.objects.order_by("program_id", "seq")
    if program_id is not None:
        entries = entries.filter(program_id=program_id)
    if artist_id is not None:
        touches = Posting.objects.filter(entry_id=OuterRef("pk"), account__artist_id=artist_id)
        entries = entries.filter(Exists(touches))
    if scope.everything:
        return entries
    own = Posting.objects.filter(entry_id=OuterRef("pk"), account__artist_id=scope.artist_id)
    condition = Q(program_id__in=sorted(scope.programs))
    if scope.artist_id is not None:
        condition |= Exists(own)
    return entries.filter(condition)


_ENTRY_ROWS_SELECT = (
    "SELECT e.id, e.program_id AS program, e.seq, e.posted_at, e.effective_date, e.kind, "
    "e.memo, e.prev_hash, e.hash, e.adjusts_id AS adjusts, e.dispute_id AS dispute "
    "FROM ledger_entry e"
)
# An entry is about an artist when one of its postings is to an account of the artist. On
# PostgreSQL as arrays of the artist's accounts and of their entries, computed once per
# statement: planning the correlated EXISTS took 0.3-0.8 ms a request, more than running it
# (a staff member's page, whose own entries are OR'ed in), against 0.1 ms for this, and an
# artist's page ran 6-10x faster (EXPLAIN ANALYZE at 1M postings, docs/PERFORMANCE.md).
_TOUCHES_ARTIST = {
    "postgresql": (
        "e.id = ANY(ARRAY(SELECT p.entry_id FROM ledger_posting p WHERE p.account_id = "
        "ANY(ARRAY(SELECT a.id FROM ledger_account a WHERE a.artist_id = %s))))"
    ),
    "sqlite": (
        "EXISTS (SELECT 1 FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id "
        "WHERE p.entry_id = e.id AND a.artist_id = %s)"
    ),
}


def entry_rows(user, *, program_id: int | None = None, artist_id: int | None = None):
    """The API's ledger entry rows: `visible_entries` as plain SQL, paged by id (a cursor).

    Plain SQL like the other hot lists: building and compiling the ORM query, with its
    `Exists` for a staff member's own entries, cost more CPU than the database's answer
    (docs/PERFORMANCE.md). The same rows as `visible_entries`; tests compare the two."""
    touches = _TOUCHES_ARTIST[connection.vendor]
    conditions = access.scope_of(user).sql(None, "e.program_id", about_artist=touches)
    if program_id is not None:
        conditions.append(("e.program_id = %s", [program_id]))
    if artist_id is not None:
        conditions.append((touches, [artist_id]))
    return KeysetRows(_ENTRY_ROWS_SELECT, conditions, Entry, key="id", column="e.id")


def chain_postings(program: Program, columns, *, up_to_seq: int | None = None, chunk_size=2000):
    """The program's postings as `values_list(*columns)` rows in chain order (entry seq, then
    posting id), up to entry `up_to_seq` (all when None), read `chunk_size` entries at a time.

    Streams the journal export and the chain walk with memory bound by a chunk and no
    server-side cursor. Each chunk is two index range reads: the next `chunk_size` entry
    seqs (keyset on the program's chain position), then the postings of that seq range.
    (Paging the postings themselves on (entry seq, posting id) makes PostgreSQL sort the whole
    rest of the ledger for every chunk.) Postings never change once written, so chunks read
    at different moments make one chain, and no transaction is held between them.
    """
    entries = Entry.objects.filter(program=program)
    if up_to_seq is not None:
        entries = entries.filter(seq__lte=up_to_seq)
    postings = Posting.objects.filter(program=program, entry__program=program)
    for chunk in keyset_chunks(entries.values_list("seq"), ("seq",), chunk_size):
        (first,), (last,) = chunk[0], chunk[-1]
        yield from (
            postings.filter(entry__seq__gte=first, entry__seq__lte=last)
            .order_by("entry__seq", "id")
            .values_list(*columns)
        )
