"""Payouts: grants and settlements actually paid, and their voids."""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction

from accounts.models import User
from ledger import access, clock, money, queries
from ledger.errors import (
    DomainError,
    InsufficientBalance,
    InvalidTransition,
    NotAllowed,
    NotAMember,
    ValidationFailed,
)
from ledger.models import (
    Account,
    AccountKind,
    Acknowledgement,
    EntryKind,
    NotificationKind,
    Payout,
    PayoutKind,
    PayoutStatus,
    Program,
)
from ledger.notifications import RECIPIENT_COLUMNS, notify
from ledger.webhooks import events

from . import audit
from .common import require_not_future, require_plausible_date, require_reason, today
from .journal import Line, Total, entry_accounts, post_entry, post_mirror

_TOTAL_FIELD = {PayoutKind.GRANT: "grants_minor", PayoutKind.SETTLEMENT: "settlements_minor"}


def check_payout(
    *, actor, program: Program, artist, kind: str, amount_minor, paid_on, member: bool
) -> None:
    """Raise the domain error of the first rule a new payout breaks; write nothing.

    The one home of these rules: `record_payout` runs them before it writes, and
    `preview_payout` runs them (with `check_within_owed`) so a page can validate a
    payout without writing. `member` says whether the artist is enrolled in `program`.
    """
    access.require(
        actor, access.Action.PAY, program.pk, artist_id=None if artist is None else artist.pk
    )
    if kind not in _TOTAL_FIELD:
        raise ValidationFailed("Kind must be grant or settlement.", field="kind")
    if not isinstance(amount_minor, int) or not 0 < amount_minor <= money.MAX_MINOR:
        raise ValidationFailed("The amount must be greater than zero.", field="amount")
    require_not_future(paid_on, "paid_on")
    require_plausible_date(paid_on, "paid_on")
    if not member:
        raise NotAMember("This artist is not a member of the program.", field="artist")


def check_within_owed(*, program: Program, kind: str, amount_minor: int, owed_minor: int) -> None:
    """Refuse a settlement larger than `owed_minor` (what the program owes the artist, minor
    units; negative when paid ahead). A grant may exceed it. Reads and writes nothing:
    `record_payout` calls it on the payable's locked balance row, so concurrent settlements
    cannot overdraw it; a preview calls it on the balance read without a lock."""
    if kind != PayoutKind.SETTLEMENT or amount_minor <= owed_minor:
        return
    cur = program.currency
    raise InsufficientBalance(
        f"A settlement of {money.display(amount_minor, cur)} exceeds the "
        f"{money.display(max(owed_minor, 0), cur)} outstanding; settle at most what is "
        "outstanding, or pay a grant.",
        field="amount",
    )


@dataclass(frozen=True)
class PayoutPreview:
    """What a payout would do to an artist's balance (minor units; negative = paid ahead)."""

    owed_before_minor: int
    owed_after_minor: int


def preview_payout(
    *, actor, artist, program: Program, amount_minor: int, kind: str, paid_on: dt.date
) -> PayoutPreview:
    """Check a payout by the rules `record_payout` applies, and what it would leave owed:
    reads only, so a page can validate before anything is written. Raises the same domain
    errors. The settlement check reads the balance without a lock; `record_payout` checks it
    again under the lock, so a preview can pass and the payout still be refused.
    """
    try:
        owed = queries.payable_balance_minor(program, artist)
    except Account.DoesNotExist:
        owed = None
    # The rules of record_payout, by the same call: only how membership is found differs.
    check_payout(
        actor=actor,
        program=program,
        artist=artist,
        kind=kind,
        amount_minor=amount_minor,
        paid_on=paid_on,
        member=owed is not None,
    )
    check_within_owed(program=program, kind=kind, amount_minor=amount_minor, owed_minor=owed)
    return PayoutPreview(owed_before_minor=owed, owed_after_minor=owed - amount_minor)


def record_payout(
    *,
    actor,
    artist,
    program: Program,
    amount_minor: int,
    kind: str,
    paid_on=None,
    method: str = "",
    reference: str = "",
    note: str = "",
) -> Payout:
    """Record money paid to an artist: Dr the artist's payable, Cr program cash.

    A settlement may not exceed what is outstanding; that is checked after the payable's
    balance row is locked, so any number of concurrent settlements cannot overdraw it. A
    payout at or above the program's approval threshold is only proposed: nothing is posted
    until a second treasurer approves it (`approve_payout`); a proposed settlement is checked
    against what is owed now (unlocked) and again, under the lock, at approval.
    """
    paid_on = paid_on or today()
    try:
        # Enrolment opens the payable account, so finding it is the membership check.
        accounts = entry_accounts(program, artist)
    except Account.DoesNotExist:
        accounts = None
    check_payout(
        actor=actor,
        program=program,
        artist=artist,
        kind=kind,
        amount_minor=amount_minor,
        paid_on=paid_on,
        member=accounts is not None,
    )
    proposed = program.needs_approval(amount_minor)
    if proposed:
        owed = queries.payable_balance_minor(program, artist)
        check_within_owed(program=program, kind=kind, amount_minor=amount_minor, owed_minor=owed)
    with transaction.atomic():
        payout = _insert_payout(
            Payout(
                program=program,
                artist=artist,
                kind=kind,
                amount_minor=amount_minor,
                paid_on=paid_on,
                method=method or "",
                reference=reference or "",
                note=note or "",
                created_by=actor,
                status=PayoutStatus.PROPOSED if proposed else PayoutStatus.PAID,
                proposed_by=actor if proposed else None,
            )
        )
        if not proposed:
            _post_payout(payout, accounts, actor)
        # This event's own details; how an audit row is written has one home (audit.record).
        audit.record(
            actor=actor,
            action="payout.propose" if proposed else "payout.create",
            obj=payout,
            program=program,
            kind=kind,
            amount_minor=amount_minor,
            artist=artist.pk,
        )
        event = "payout.proposed" if proposed else "payout.paid"
        events.emit(program.pk, event, events.payout_data(payout))
        if proposed:
            _ask_treasurers(payout, actor)
        else:
            _tell_paid(payout, artist, actor)
    return payout


def _what(payout: Payout) -> str:
    """The payout in a few words: “A grant of $50.00”."""
    amount = money.display(payout.amount_minor, payout.program.currency)
    return f"A {payout.get_kind_display().lower()} of {amount}"


def _tell_paid(payout: Payout, artist, actor) -> None:
    """Tell the artist a payout to it was paid (recorded, or its proposal approved)."""
    notify(
        user=artist,
        kind=NotificationKind.PAYOUT_RECORDED,
        message=(
            f"{_what(payout)} was paid to you in {payout.program.name} on "
            f"{payout.paid_on.isoformat()}. Confirm it on its page once you have received it."
        ),
        subject=payout,
        program=payout.program_id,
        actor=actor,
    )


def _ask_treasurers(payout: Payout, proposer) -> None:
    """Tell the program's treasurers who may decide a proposal (neither its proposer nor
    the artist paid) that it waits for them: one statement for them all, then a row each."""
    deciders = (
        User.objects.filter(
            staff_roles__program_id=payout.program_id,
            staff_roles__role=access.Role.TREASURER,
            is_active=True,
        )
        .exclude(pk__in=[proposer.pk, payout.artist_id])
        .only(*RECIPIENT_COLUMNS)
        .order_by("id")
    )
    message = (
        f"{_what(payout)} to {payout.artist} in {payout.program.name}, proposed by "
        f"{proposer}, needs a second treasurer's approval."
    )
    for treasurer in deciders:
        notify(
            user=treasurer,
            kind=NotificationKind.PAYOUT_NEEDS_APPROVAL,
            message=message,
            subject=payout,
            program=payout.program_id,
            actor=proposer,
        )


def _post_payout(payout: Payout, accounts, actor) -> None:
    """Post a paid payout's entry: Dr the artist's payable, Cr program cash. A settlement is
    checked against what is owed after the payable's balance row is locked."""
    payable = accounts[AccountKind.PAYABLE]
    amount_minor, program = payout.amount_minor, payout.program

    def not_overdrawn(balances):
        # The payable is a liability: its credit balance (negated, debit-positive) is what is owed.
        check_within_owed(
            program=program,
            kind=payout.kind,
            amount_minor=amount_minor,
            owed_minor=-balances[payable.pk],
        )

    reference = payout.reference
    post_entry(
        program=program,
        kind=EntryKind.PAYOUT,
        lines=[
            Line(payable, amount_minor),
            Line(accounts[AccountKind.CASH], -amount_minor),
        ],
        memo=f"{payout.get_kind_display()} paid" + (f" ({reference})" if reference else ""),
        effective_date=payout.paid_on,
        actor=actor,
        payout=payout,
        check=not_overdrawn if payout.kind == PayoutKind.SETTLEMENT else None,
        total=Total(payout.artist_id, _TOTAL_FIELD[payout.kind], amount_minor),
    )


def _lock_proposal(payout: Payout, actor) -> Payout:
    """Re-read a proposed payout under a row lock for a treasurer's decision, so two
    treasurers approving at once cannot both post it; the decider is neither its proposer
    nor the artist paid."""
    payout = (
        Payout.objects.select_for_update(of=("self",))  # not the joined program or artist rows
        .select_related("program", "artist")  # the artist: told when it is paid
        .get(pk=payout.pk)
    )
    access.require(
        actor,
        access.Action.PAY,
        payout.program_id,
        artist_id=payout.artist_id,
        proposer_id=payout.proposed_by_id,
    )
    if payout.status != PayoutStatus.PROPOSED:
        raise InvalidTransition(f"This payout is {payout.status}; only a proposal is decided.")
    return payout


def approve_payout(*, payout: Payout, actor) -> Payout:
    """A second treasurer approves a proposal: it is paid, dated and posted now, with the
    settlement check made under the payable's lock (refused: it stays proposed)."""
    with transaction.atomic():
        payout = _lock_proposal(payout, actor)
        now = clock.now()
        payout.status = PayoutStatus.PAID
        payout.approved_by, payout.approved_at = actor, now
        # The money moves when the proposal is approved, so that is the day it was paid.
        payout.paid_on = max(payout.paid_on, now.astimezone(dt.UTC).date())
        payout.save(update_fields=["status", "approved_by", "approved_at", "paid_on"])
        _post_payout(payout, entry_accounts(payout.program, payout.artist_id), actor)
        audit.record(actor=actor, action="payout.approve", obj=payout, program=payout.program)
        events.emit(payout.program_id, "payout.paid", events.payout_data(payout))
        _tell_paid(payout, payout.artist, actor)
    return payout


def decline_payout(*, payout: Payout, actor, reason: str) -> Payout:
    """A second treasurer declines a proposal: nothing was posted and nothing is."""
    reason = require_reason(reason)
    with transaction.atomic():
        payout = _lock_proposal(payout, actor)
        payout.status = PayoutStatus.DECLINED
        payout.declined_by, payout.declined_at = actor, clock.now()
        payout.decline_reason = reason
        payout.save(update_fields=["status", "declined_by", "declined_at", "decline_reason"])
        audit.record(
            actor=actor, action="payout.decline", obj=payout, program=payout.program, reason=reason
        )
    return payout


def _insert_payout(payout: Payout) -> Payout:
    """Insert a new payout (defaults already filled by the model) in plain SQL: the ORM's
    insert cost three times the statement in Python, on the path every payout takes."""
    # Shaped like _save_acceptance, not shared: each hot statement lists its own columns
    # next to its SQL, where a reader checks them against each other.
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_PAYOUT,
            [
                payout.program_id,
                payout.artist_id,
                payout.kind,
                payout.amount_minor,
                ops.adapt_datefield_value(payout.paid_on),
                payout.method,
                payout.reference,
                payout.note,
                payout.status,
                ops.adapt_datetimefield_value(payout.created_at),
                payout.created_by_id,
                payout.void_reason,
                payout.proposed_by_id,
                payout.decline_reason,
            ],
        )
        (payout.pk,) = cursor.fetchone()
    payout._state.adding, payout._state.db = False, connection.alias
    return payout


_INSERT_PAYOUT = (
    "INSERT INTO ledger_payout (program_id, artist_id, kind, amount_minor, paid_on, method, "
    "reference, note, status, created_at, created_by_id, void_reason, proposed_by_id, "
    "decline_reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def void_payout(*, payout: Payout, actor, reason: str, dispute=None) -> Payout:
    """Void a payout that was recorded in error, with the mirror of its entry. `dispute`: the
    upheld `not_received` dispute that voids it (`services.disputes`), named in the audit."""
    access.require(actor, access.Action.PAY, payout.program_id)
    reason = require_reason(reason)
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update(of=("self",))  # not the joined program row
            .select_related("program")
            .get(pk=payout.pk)
        )
        if payout.status != PayoutStatus.PAID:
            raise InvalidTransition(f"This payout is {payout.status}; it cannot be voided.")
        payout.status = PayoutStatus.VOID
        payout.voided_at = clock.now()
        payout.voided_by = actor
        payout.void_reason = reason
        payout.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
        post_mirror(
            original=payout.entries.get(kind=EntryKind.PAYOUT),
            kind=EntryKind.VOID,
            memo=f"Void of {payout.get_kind_display().lower()} #{payout.pk}",
            effective_date=today(),
            actor=actor,
            total=Total(payout.artist_id, _TOTAL_FIELD[payout.kind], -payout.amount_minor),
        )
        details = {"dispute": dispute.pk} if dispute is not None else {}
        audit.record(
            actor=actor,
            action="payout.void",
            obj=payout,
            program=payout.program,
            reason=reason,
            **details,
        )
        events.emit(payout.program_id, "payout.voided", events.payout_data(payout))
    return payout


def confirmation_refusal(payout: Payout, user) -> DomainError | None:
    """Why `user` may not confirm receiving `payout`, as the error `confirm_payout` raises,
    or None when it may: only the artist paid, only a `paid` payout. Pages show the button
    only where this is None."""
    if user is None or not user.is_authenticated or payout.artist_id != user.pk:
        return NotAllowed("Only the artist paid may confirm receiving a payout.")
    if payout.status != PayoutStatus.PAID:
        return InvalidTransition(
            f"This payout is {payout.status}; only a paid payout is confirmed as received."
        )
    return None


def confirm_payout(*, payout: Payout, actor) -> Payout:
    """The artist confirms the money arrived: `acknowledged` becomes `confirmed`, with the
    time and an audit row. Confirming again changes nothing and answers the same (a retry or
    a second click is not an error). A payout the artist says never arrived is a dispute."""
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update(of=("self",))  # not the joined program row
            .select_related("program")
            .get(pk=payout.pk)
        )
        error = confirmation_refusal(payout, actor)
        if error is not None:
            raise error
        if payout.acknowledged == Acknowledgement.CONFIRMED:
            return payout
        payout.acknowledged = Acknowledgement.CONFIRMED
        payout.acknowledged_at = clock.now()
        payout.save(update_fields=["acknowledged", "acknowledged_at"])
        audit.record(
            actor=actor,
            action="payout.confirm",
            obj=payout,
            program=payout.program,
            amount_minor=payout.amount_minor,
        )
    return payout
