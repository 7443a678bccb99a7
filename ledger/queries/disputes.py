"""Disputes a reader sees: the queue (open first, oldest first) and what an upheld one posted."""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Value, When

from ledger.models import (
    AccountKind,
    Dispute,
    DisputeClaim,
    DisputeStatus,
    Entry,
    EntryKind,
)


def dispute_queue(user, *, program_id=None, status=None):
    """The disputes `user` sees (`Dispute.objects.visible_to`): open ones first, then the
    rest, each oldest first; optionally one program's, or one status."""
    disputes = Dispute.objects.visible_to(user).select_related(
        "program", "artist", "contribution", "payout", "decided_by"
    )
    if program_id is not None:
        disputes = disputes.filter(program_id=program_id)
    if status:
        disputes = disputes.filter(status=status)
    still_open = Case(
        When(status=DisputeStatus.OPEN, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return disputes.annotate(closed=still_open).order_by("closed", "opened_at", "id")


@dataclass(frozen=True)
class ResultingEntry:
    """The ledger entry an upheld dispute posted, and what it moved on the artist's payable
    (minor units, positive: owed more)."""

    entry: Entry
    amount_minor: int


# The entry each upheld claim posts: an acceptance, an adjustment (linked to the dispute), a
# void. Work accepted at value 0 and then revalued posts its first value as an acceptance.
_POSTED = {
    DisputeClaim.REJECTION: EntryKind.ACCEPTANCE,
    DisputeClaim.VALUATION: EntryKind.ADJUSTMENT,
    DisputeClaim.NOT_RECEIVED: EntryKind.VOID,
}


def resulting_entry(dispute: Dispute) -> ResultingEntry | None:
    """The entry `dispute`'s upholding posted, or None (not upheld; work valued at 0)."""
    if dispute.status != DisputeStatus.UPHELD:
        return None
    if dispute.claim == DisputeClaim.VALUATION:
        entries = Entry.objects.filter(dispute=dispute)
        if not entries.exists():  # first value of work accepted at 0: its acceptance
            entries = Entry.objects.filter(
                contribution_id=dispute.contribution_id,
                kind=EntryKind.ACCEPTANCE,
                posted_at__gte=dispute.opened_at,
            )
    elif dispute.claim == DisputeClaim.REJECTION:
        entries = Entry.objects.filter(
            contribution_id=dispute.contribution_id, kind=_POSTED[dispute.claim]
        )
    else:
        entries = Entry.objects.filter(payout_id=dispute.payout_id, kind=_POSTED[dispute.claim])
    entry = entries.order_by("seq").first()
    if entry is None:
        return None
    payable = entry.postings.filter(account__kind=AccountKind.PAYABLE).first()
    return ResultingEntry(entry, -payable.amount_minor if payable else 0)
