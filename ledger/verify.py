"""Recompute a program's books from the stored postings and compare with what the app keeps.

Checks, in chain order: sequence numbers without gaps, each entry's link to the previous hash,
each entry's hash from its canonical content (an adjustment's links to the acceptance it
adjusts and its dispute included), each entry's balance (two or more postings, zero sum per
currency); then every account's balance row and every membership's totals against the sums
recomputed from postings, contributions and payouts; each contribution's value against what
its entries credited (acceptance plus adjustments; zero once reversed); each adjustment's
links; and the chain head. Reads are
streamed, so memory stays flat however long the ledger is.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from django.db import connections
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from ledger import routing
from ledger.hashing import entry_hash
from ledger.models import (
    AccountBalance,
    AccountKind,
    Contribution,
    ContributionStatus,
    DisputeClaim,
    DisputeStatus,
    Entry,
    EntryKind,
    LedgerHead,
    Membership,
    Payout,
    PayoutKind,
    PayoutStatus,
    Program,
)
from ledger.models.journal import GENESIS_HASH
from ledger.queries.entries import chain_postings
from ledger.queries.rows import keyset_rows, snapshot


@dataclass
class VerifyResult:
    program_id: int
    entries_checked: int = 0
    postings_checked: int = 0
    head_hash: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_COLUMNS = (
    "entry_id",
    "entry__seq",
    "entry__kind",
    "entry__contribution_id",
    "entry__payout_id",
    "entry__reverses__hash",
    "entry__memo",
    "entry__posted_at",
    "entry__effective_date",
    "entry__prev_hash",
    "entry__hash",
    "account_id",
    "account__code",
    "amount_minor",
    "currency",
    "entry__adjusts__hash",
    "entry__dispute_id",
)


@dataclass
class ChainStep:
    """One entry as the chain walk saw it, with what is wrong with it (if anything)."""

    entry_id: int
    seq: int
    hash: str
    legs: list[tuple[int, int, str]]  # (account id, amount in minor units, currency)
    problems: list[str]


def walk_chain(program: Program, *, up_to_seq: int | None = None, chunk_size: int = 5000):
    """Yield each entry of the program's chain in order, checked: sequence without gaps, link
    to the previous hash, hash of its canonical content, two or more postings balancing per
    currency. Streamed from the postings, so memory stays flat however long the ledger is."""
    rows = chain_postings(program, _COLUMNS, up_to_seq=up_to_seq, chunk_size=chunk_size)
    prev_hash, expected_seq = GENESIS_HASH, 1
    for _entry_id, group in groupby(rows, key=lambda row: row[0]):
        legs = list(group)
        (entry_id, seq, kind, contribution_id, payout_id, reverses_hash, memo, posted_at,
         effective_date, stored_prev, stored_hash) = legs[0][:11]  # fmt: skip
        problems = []
        if seq != expected_seq:
            problems.append(f"entry {entry_id}: sequence {seq}, expected {expected_seq}")
        if stored_prev != prev_hash:
            problems.append(f"entry {entry_id} (seq {seq}): prev_hash does not link to the chain")
        per_currency: dict[str, int] = defaultdict(int)
        for leg in legs:
            per_currency[leg[14]] += leg[13]
        if len(legs) < 2 or any(per_currency.values()):
            problems.append(f"entry {entry_id} (seq {seq}): postings do not balance")
        entry = Entry(
            program_id=program.pk, seq=seq, kind=kind, contribution_id=contribution_id,
            payout_id=payout_id, memo=memo, posted_at=posted_at, effective_date=effective_date,
            prev_hash=stored_prev, dispute_id=legs[0][16],
        )  # fmt: skip
        legs_content = [(g[12], g[13], g[14]) for g in legs]
        if entry_hash(entry, legs_content, reverses_hash, legs[0][15]) != stored_hash:
            problems.append(f"entry {entry_id} (seq {seq}): hash does not match its content")
        yield ChainStep(entry_id, seq, stored_hash, [(g[11], g[13], g[14]) for g in legs], problems)
        prev_hash, expected_seq = stored_hash, seq + 1


def verify_program(program: Program, *, chunk_size: int = 5000) -> VerifyResult:
    """Check the program's chain, balances, memberships, contributions and adjustments
    against each other, all read in one snapshot of the primary: postings committed while the
    check runs (it reads in chunks) are neither half seen nor counted against balance rows
    read at another moment."""
    with snapshot(connections[routing.PRIMARY]):
        return _verify_program(program, chunk_size)


def _verify_program(program: Program, chunk_size: int) -> VerifyResult:
    result = VerifyResult(program_id=program.pk)
    problems = result.problems
    sums: dict[int, int] = defaultdict(int)  # account id → recomputed balance (minor units)
    prev_hash = GENESIS_HASH
    for step in walk_chain(program, chunk_size=chunk_size):
        result.entries_checked += 1
        result.postings_checked += len(step.legs)
        for account_id, amount, _currency in step.legs:
            sums[account_id] += amount
        problems.extend(step.problems)
        prev_hash = step.hash
        if len(problems) > 100:
            problems.append("… stopping after 100 problems")
            return result

    total_entries = Entry.objects.filter(program=program).count()
    if total_entries != result.entries_checked:
        problems.append(f"{total_entries - result.entries_checked} entries have no postings at all")
    head = LedgerHead.objects.filter(program=program).first()
    result.head_hash = prev_hash if result.entries_checked else None
    if head is None or head.hash != prev_hash or head.seq != result.entries_checked:
        problems.append("the chain head does not match the last entry")

    for row in AccountBalance.objects.filter(program=program).select_related("account"):
        if row.balance_minor != sums.get(row.account_id, 0):
            problems.append(
                f"account {row.account.code}: balance row {row.balance_minor} != "
                f"postings {sums.get(row.account_id, 0)}"
            )
    problems.extend(_check_memberships(program))
    problems.extend(_check_contributions(program))
    problems.extend(_check_adjustments(program))
    return result


def _check_contributions(program: Program) -> list[str]:
    """Each contribution's value against what its entries credited the artist's payable:
    accepted work, its value (the acceptance plus any adjustments); anything else, nothing
    (a reversal undoes the acceptance and every adjustment of it, so the books return to
    zero). One grouped statement; only the rows that differ come back."""
    posted = Coalesce(
        Sum(
            "entries__postings__amount_minor",
            filter=Q(entries__postings__account__kind=AccountKind.PAYABLE),
        ),
        0,
    )
    accepted = Q(status=ContributionStatus.ACCEPTED)
    wrong = (
        Contribution.objects.filter(program=program)
        .annotate(credited=-posted)
        .filter(
            (accepted & ~Q(credited=Coalesce(F("value_minor"), 0))) | (~accepted & ~Q(credited=0))
        )
        .order_by("id")
        .values_list("id", "status", "value_minor", "credited")[:100]
    )
    return [
        f"contribution {pk} ({status}, value {value}): its entries credit {credited} to the "
        "artist's payable"
        for pk, status, value, credited in wrong
    ]


def _check_adjustments(program: Program) -> list[str]:
    """Each adjustment adjusts the acceptance of its own contribution and posts the decision
    of an upheld `valuation` dispute about that contribution."""
    problems = []
    adjustments = (
        Entry.objects.filter(program=program, kind=EntryKind.ADJUSTMENT)
        .select_related("adjusts", "dispute")
        .order_by("seq")
    )
    for entry in keyset_rows(adjustments, ("seq",), chunk_size=1000):
        original, dispute = entry.adjusts, entry.dispute
        if original.kind != EntryKind.ACCEPTANCE or original.contribution_id != (
            entry.contribution_id
        ):
            problems.append(
                f"entry {entry.pk} (seq {entry.seq}): adjusts entry {original.pk}, not the "
                "acceptance of its contribution"
            )
        if (
            dispute.contribution_id != entry.contribution_id
            or dispute.claim != DisputeClaim.VALUATION
            or dispute.status != DisputeStatus.UPHELD
        ):
            problems.append(
                f"entry {entry.pk} (seq {entry.seq}): dispute {dispute.pk} is not an upheld "
                "valuation dispute about its contribution"
            )
    return problems


def _check_memberships(program: Program) -> list[str]:
    """Membership totals against contributions and payouts, and against the payable."""
    valued = dict(
        Contribution.objects.filter(program=program, status=ContributionStatus.ACCEPTED)
        .values_list("artist_id")
        .annotate(total=Sum("value_minor"))
        .order_by()
    )
    paid: dict[tuple[int, str], int] = {
        (artist_id, kind): total
        for artist_id, kind, total in Payout.objects.filter(
            program=program, status=PayoutStatus.PAID
        )
        .values_list("artist_id", "kind")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    }
    payable = dict(
        AccountBalance.objects.filter(program=program, account__artist__isnull=False).values_list(
            "account__artist_id", "balance_minor"
        )
    )
    problems = []
    for m in Membership.objects.filter(program=program):
        expected = (
            valued.get(m.artist_id, 0),
            paid.get((m.artist_id, PayoutKind.GRANT), 0),
            paid.get((m.artist_id, PayoutKind.SETTLEMENT), 0),
        )
        if (m.valued_minor, m.grants_minor, m.settlements_minor) != expected:
            problems.append(f"membership {m.pk}: totals differ from its contributions/payouts")
        if -payable.get(m.artist_id, 0) != m.outstanding_minor:
            problems.append(f"membership {m.pk}: payable balance differs from its totals")
    return problems
