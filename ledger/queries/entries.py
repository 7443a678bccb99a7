"""Ledger entries a reader sees, and the monthly series the charts draw from them."""

from django.db.models import Exists, OuterRef, Q

from ledger import access
from ledger.models import (
    AccountKind,
    Entry,
    Posting,
    Program,
)


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
        if kind in ("acceptance", "reversal"):
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
