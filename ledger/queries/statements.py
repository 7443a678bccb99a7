"""Statements: an artist's payable account in a program between two dates."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Sum
from django.db.models.functions import Coalesce

from ledger import access
from ledger.models import (
    AccountKind,
    Acknowledgement,
    EntryKind,
    Membership,
    PayoutStatus,
    Posting,
    Program,
)


def must_name_artist(user, program: Program) -> bool:
    """Whether `user` must say whose statement it wants in `program`: its staff read every
    member's, and have none of their own unless they are members too."""
    return access.scope_of(user).staff_of(program.pk) and not (
        user.is_authenticated and program.memberships.filter(artist=user).exists()
    )


def statement_membership(user, program: Program, artist_id: int | None):
    """The membership whose statement `user` asks for in `program` (an artist may leave
    `artist_id` out: its own), or None when there is none the reader may see (a 404)."""
    scope = access.scope_of(user)
    if artist_id is None:
        artist_id = scope.artist_id
    if artist_id is None or not scope.sees(program.pk, artist_id):
        return None
    return (
        Membership.objects.filter(program=program, artist_id=artist_id)
        .select_related("artist")
        .first()
    )


@dataclass
class StatementLine:
    date: dt.date
    kind: str
    description: str
    amount_minor: int  # positive: valued work; negative: payments
    balance_minor: int  # running balance after this line
    entry_id: int
    entry_hash: str
    # A payment's line (kind `payout`): its payout, and whether the artist confirmed receiving
    # it ("confirmed", or None). Not part of the chain: a confirmation posts nothing.
    payout_id: int | None = None
    acknowledged: str | None = None
    payout_status: str | None = None

    @property
    def receipt(self) -> str | None:
        """For a payment still standing: `confirmed` or `unconfirmed` by the artist; None
        for any other line (work, a void, a payment voided since)."""
        if self.kind != EntryKind.PAYOUT or self.payout_status != PayoutStatus.PAID:
            return None
        return "confirmed" if self.acknowledged == Acknowledgement.CONFIRMED else "unconfirmed"


@dataclass
class Statement:
    artist: object
    program: Program
    date_from: dt.date | None
    date_to: dt.date | None
    opening_minor: int
    closing_minor: int
    head_hash: str | None
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.program.currency

    def payments_minor(self, receipt: str) -> int:
        """The payments of the period still standing that the artist has (`confirmed`) or
        has not yet (`unconfirmed`) confirmed receiving, as a positive amount."""
        return -sum(line.amount_minor for line in self.lines if line.receipt == receipt)


def statement(
    *, artist, program: Program, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> Statement:
    """The artist's payable account in `program` between two dates (inclusive), by entry date.

    `head_hash` is the hash of the latest entry (in chain order) that the statement includes,
    opening balance included, so it can later be checked against the chain.
    """
    postings = Posting.objects.filter(
        account__program=program, account__artist=artist, account__kind=AccountKind.PAYABLE
    )
    if date_to is not None:
        postings = postings.filter(entry__effective_date__lte=date_to)
    opening = 0
    if date_from is not None:
        opening = -(
            postings.filter(entry__effective_date__lt=date_from).aggregate(
                total=Coalesce(Sum("amount_minor"), 0)
            )["total"]
        )
        in_period = postings.filter(entry__effective_date__gte=date_from)
    else:
        in_period = postings
    rows = in_period.order_by("entry__effective_date", "entry__seq", "id").values_list(
        "entry__effective_date",
        "entry__kind",
        "entry__memo",
        "amount_minor",
        "entry_id",
        "entry__hash",
        "entry__payout_id",
        "entry__payout__acknowledged",
        "entry__payout__status",
    )
    lines, running = [], opening
    for day, kind, memo, amount, entry_id, entry_hash, payout_id, acknowledged, status in rows:
        running -= amount
        line = StatementLine(day, kind, memo, -amount, running, entry_id, entry_hash)
        if kind == EntryKind.PAYOUT:
            line.payout_id, line.acknowledged, line.payout_status = payout_id, acknowledged, status
        lines.append(line)
    last = postings.order_by("-entry__seq").values_list("entry__hash", flat=True).first()
    # By keyword, as records are built everywhere here (alike in shape only): eight figures
    # built by position could swap two without an error.
    return Statement(
        artist=artist,
        program=program,
        date_from=date_from,
        date_to=date_to,
        opening_minor=opening,
        closing_minor=running,
        head_hash=last,
        lines=lines,
    )
