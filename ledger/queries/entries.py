"""Ledger entries a reader sees, and the monthly series the charts draw from them."""

from django.db.models import Exists, OuterRef

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
    program's, or only those touching one artist's accounts. An artist sees the entries
    touching its own accounts; naming another artist gives nothing."""
    scope = access.scope_of(user)
    entries = Entry.objects.order_by("program_id", "seq")
    if not scope.everything:
        if scope.artist_id is None or artist_id not in (None, scope.artist_id):
            return entries.none()
        artist_id = scope.artist_id
    if program_id is not None:
        entries = entries.filter(program_id=program_id)
    if artist_id is not None:
        touches = Posting.objects.filter(entry_id=OuterRef("pk"), account__artist_id=artist_id)
        entries = entries.filter(Exists(touches))
    return entries
