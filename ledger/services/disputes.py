"""Disputes: an artist objects to a decision about its own work or pay; someone else, in the
role that makes such decisions, upholds or dismisses it; the artist may withdraw it.

open → upheld | dismissed | withdrawn, nothing after. Who may take each step is
`access.dispute_refusal`; what an upheld dispute changes reuses the decisions it overturns:
an upheld `rejection` accepts the work (`contributions.accept_through_dispute`), an upheld
`valuation` posts an adjustment (`contributions.adjust_through_dispute`), an upheld
`not_received` voids the payout (`payouts.void_payout`).

The window: a decision may be disputed until `dispute_window_days` (a program setting) after
the moment it was made, that moment included to the microsecond: for a contribution its
review (`reviewed_at`); for a payout the moment the ledger recorded it as paid, which is its
approval (`approved_at`) when it needed one and its recording (`created_at`) otherwise. Not
`paid_on`: that date is typed by the treasurer and may lie in the past, and the artist could
not have disputed a payment before it was in the books.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from accounts.models import User
from ledger import access, clock, money
from ledger.errors import (
    AlreadyDisputed,
    DisputeWindowClosed,
    DomainError,
    InvalidTransition,
    ValidationFailed,
)
from ledger.models import (
    CLAIMS_OF,
    Contribution,
    ContributionStatus,
    Dispute,
    DisputeClaim,
    DisputeStatus,
    DisputeSubject,
    NotificationKind,
    Payout,
    PayoutStatus,
    StaffRole,
)
from ledger.notifications import notify
from ledger.webhooks import events

from . import audit
from .common import is_web_url, require_reason, require_text
from .contributions import accept_through_dispute, adjust_through_dispute, lock_for_review
from .payouts import void_payout

# The state a subject must be in for each claim.
_STATE_OF_CLAIM = {
    DisputeClaim.REJECTION: ContributionStatus.REJECTED,
    DisputeClaim.VALUATION: ContributionStatus.ACCEPTED,
    DisputeClaim.NOT_RECEIVED: PayoutStatus.PAID,
}
_CLAIM_MISFIT = {
    DisputeClaim.REJECTION: "Only rejected work can be disputed as wrongly rejected.",
    DisputeClaim.VALUATION: "Only accepted work can be disputed as undervalued.",
    DisputeClaim.NOT_RECEIVED: "Only a paid payout can be disputed as never received.",
}
_EVIDENCE_MAX = 2000
_TEXT_MAX = 10_000


def subject_type_of(subject) -> str:
    """`contribution` or `payout`: the kind of thing `subject` is."""
    if isinstance(subject, Contribution):
        return DisputeSubject.CONTRIBUTION
    if isinstance(subject, Payout):
        return DisputeSubject.PAYOUT
    raise TypeError(f"{subject!r} cannot be disputed.")


def decided_at(subject) -> dt.datetime | None:
    """When the decision a dispute about `subject` questions was made (module docstring)."""
    if isinstance(subject, Contribution):
        return subject.reviewed_at
    return subject.approved_at or subject.created_at


def window_closes_at(subject, program) -> dt.datetime | None:
    """The last moment a dispute about `subject` may be opened, or None when no decision was
    made yet."""
    moment = decided_at(subject)
    if moment is None:
        return None
    return moment + dt.timedelta(days=program.dispute_window_days)


def claims_for(subject) -> list[str]:
    """The claims that fit `subject` in its current state (none, or one)."""
    kind = subject_type_of(subject)
    return [claim for claim in CLAIMS_OF[kind] if _STATE_OF_CLAIM[claim] == subject.status]


def _check_claim(subject_type: str, subject, claim: str) -> None:
    if claim not in CLAIMS_OF.get(subject_type, ()):
        allowed = " or ".join(sorted(CLAIMS_OF.get(subject_type, ())))
        raise ValidationFailed(
            f"A dispute about a {subject_type} claims {allowed}.",
            field="claim" if subject_type in CLAIMS_OF else "subject_type",
        )
    if subject.status != _STATE_OF_CLAIM[claim]:
        raise ValidationFailed(
            f"{_CLAIM_MISFIT[claim]} This one is {subject.status}.", field="claim"
        )


def _check_window(subject, program) -> None:
    closes = window_closes_at(subject, program)
    if closes is not None and clock.now() > closes:
        raise DisputeWindowClosed(
            f"The dispute window closed on {closes.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC "
            f"({program.dispute_window_days} days after the decision)."
        )


def _open_dispute_of(subject) -> Dispute | None:
    field = "contribution" if isinstance(subject, Contribution) else "payout"
    return Dispute.objects.open().filter(**{field: subject}).first()


def _check_not_disputed(subject) -> None:
    existing = _open_dispute_of(subject)
    if existing is not None:
        raise AlreadyDisputed(
            f"Dispute #{existing.pk} about this is still open; one at a time.", field="subject"
        )


@dataclass(frozen=True)
class OpenOptions:
    """What the artist may do about `subject` now, for a page to offer or explain: the claim
    that fits its state, when the window closes, the open dispute about it, and the error
    `open_dispute` would raise (None: it would accept a statement)."""

    claim: str | None
    closes_at: dt.datetime | None
    open_dispute: Dispute | None
    refused: DomainError | None


def open_options(user, subject) -> OpenOptions:
    """`open_dispute`'s checks on `subject` without writing (its rules, by the same calls)."""
    subject_type = subject_type_of(subject)
    claims = claims_for(subject)
    claim = claims[0] if claims else None
    existing = _open_dispute_of(subject)
    refused = access.dispute_refusal(
        user,
        access.DisputeStep.OPEN,
        subject_type=subject_type,
        program_id=subject.program_id,
        artist_id=subject.artist_id,
    )
    if refused is None:
        try:
            if claim is None:
                raise ValidationFailed("Nothing about this can be disputed now.", field="claim")
            _check_claim(subject_type, subject, claim)
            _check_not_disputed(subject)
            _check_window(subject, subject.program)
        except DomainError as error:
            refused = error
    return OpenOptions(claim, window_closes_at(subject, subject.program), existing, refused)


def _lock_subject(subject):
    if isinstance(subject, Contribution):
        return lock_for_review(subject)
    return (
        Payout.objects.select_for_update(of=("self",))  # not the joined program row
        .select_related("program")
        .get(pk=subject.pk)
    )


def open_dispute(
    *,
    actor,
    subject,
    claim: str,
    statement: str,
    evidence_url: str = "",
    subject_type: str | None = None,
) -> Dispute:
    """The artist concerned disputes a decision about its own work (`rejection`,
    `valuation`) or pay (`not_received`), within the program's dispute window; one open
    dispute per subject. `subject` is a Contribution or a Payout; `subject_type`, when given,
    must name what it is."""
    actual_type = subject_type_of(subject)
    if subject_type is not None and subject_type != actual_type:
        raise ValidationFailed(f"This subject is a {actual_type}.", field="subject_type")
    access_error = access.dispute_refusal(
        actor,
        access.DisputeStep.OPEN,
        subject_type=actual_type,
        program_id=subject.program_id,
        artist_id=subject.artist_id,
    )
    if access_error is not None:
        raise access_error
    if claim not in CLAIMS_OF[actual_type]:
        _check_claim(actual_type, subject, claim)
    statement = require_text(statement, "statement", "Say what is wrong with the decision.")
    if len(statement) > _TEXT_MAX:
        raise ValidationFailed("At most 10,000 characters.", field="statement")
    evidence_url = (evidence_url or "").strip()
    if evidence_url and (len(evidence_url) > _EVIDENCE_MAX or not is_web_url(evidence_url)):
        raise ValidationFailed(
            f"Evidence is an http(s) link of at most {_EVIDENCE_MAX} characters.",
            field="evidence_url",
        )
    with transaction.atomic():
        subject = _lock_subject(subject)
        program = subject.program
        _check_claim(actual_type, subject, claim)
        _check_not_disputed(subject)
        _check_window(subject, program)
        dispute = Dispute(
            program=program,
            artist_id=subject.artist_id,
            subject_type=actual_type,
            claim=claim,
            statement=statement,
            evidence_url=evidence_url,
            opened_at=clock.now(),
            **{actual_type: subject},
        )
        try:
            with transaction.atomic():  # a savepoint: the unique index may refuse the row
                dispute.save()
        except IntegrityError as error:
            # Another dispute about the subject got in first: the partial unique index
            # (dispute_one_open_per_*) has the last word where the check above raced.
            if _open_dispute_of(subject) is not None:
                raise AlreadyDisputed(
                    "Another dispute about this is already open; one at a time.",
                    field="subject",
                ) from error
            raise
        audit.record(
            actor=actor,
            action="dispute.open",
            obj=dispute,
            program=program,
            subject_type=actual_type,
            subject=subject.pk,
            claim=claim,
        )
        events.emit(program.pk, "dispute.opened", events.dispute_data(dispute))
        _tell_deciders(dispute, subject)
    return dispute


def _describe(dispute: Dispute, subject) -> str:
    if dispute.subject_type == DisputeSubject.CONTRIBUTION:
        what = "rejection" if dispute.claim == DisputeClaim.REJECTION else "valuation"
        return f"the {what} of “{subject.title}”"
    return (
        f"payout #{subject.pk} of {money.display(subject.amount_minor, dispute.program.currency)}"
        " (never received)"
    )


def _tell_deciders(dispute: Dispute, subject) -> None:
    """`dispute_opened` to every member of the program's staff who may decide it (reviewers
    for work, treasurers for pay; not the artist, not whoever made the disputed decision).
    Operators hold every role everywhere: they are told only when nobody on the program's own
    staff may decide it, so a dispute never goes unheard."""
    action = access.DISPUTE_DECIDER[dispute.subject_type]
    role = access.Role.REVIEWER if action == access.Action.REVIEW else access.Role.TREASURER
    excluded = access.disputed_deciders(dispute.subject_type, subject) | {dispute.artist_id}
    holders = User.objects.filter(
        is_active=True,
        pk__in=StaffRole.objects.filter(program=dispute.program, role=role).values("user_id"),
    ).exclude(pk__in=excluded)
    people = list(holders.order_by("id"))
    if not people:
        operators = User.objects.filter(is_active=True, is_superuser=True)
        people = list(operators.exclude(pk__in=excluded).order_by("id"))
    artist = dispute.artist
    for person in people:
        notify(
            user=person,
            kind=NotificationKind.DISPUTE_OPENED,
            message=f"{artist} disputes {_describe(dispute, subject)} in {dispute.program}.",
            subject=dispute,
            program=dispute.program,
        )


def _lock_dispute(dispute: Dispute) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("program", "artist")
        .get(pk=dispute.pk)
    )


def _subject_of(dispute: Dispute):
    if dispute.subject_type == DisputeSubject.CONTRIBUTION:
        return Contribution.objects.select_related("program").get(pk=dispute.contribution_id)
    return Payout.objects.select_related("program").get(pk=dispute.payout_id)


def step_refusal(user, dispute: Dispute, step: access.DisputeStep, subject=None):
    """Why `user` may not take `step` on `dispute` (`access.dispute_refusal`, with the people
    whose decision it disputes while it is open), or None when it may. `subject`: the
    dispute's subject, when the caller has it loaded. Once decided, the subject's deciders
    may have changed (an upheld rejection makes its decider the work's reviewer): a closed
    dispute is refused to everyone in the role alike, by its state (409)."""
    subject = subject if subject is not None else dispute.subject
    deciders = frozenset()
    if step == access.DisputeStep.DECIDE and dispute.status == DisputeStatus.OPEN:
        deciders = access.disputed_deciders(dispute.subject_type, subject)
    return access.dispute_refusal(
        user,
        step,
        subject_type=dispute.subject_type,
        program_id=dispute.program_id,
        artist_id=dispute.artist_id,
        deciders=deciders,
    )


def _lock_for_decision(dispute: Dispute, actor, note: str):
    """Lock the dispute, check who decides and that it is open; the decision's note."""
    dispute = _lock_dispute(dispute)
    subject = _subject_of(dispute)
    error = step_refusal(actor, dispute, access.DisputeStep.DECIDE, subject)
    if error is not None:
        raise error
    _require_open(dispute)
    return dispute, subject, require_reason(note, field="note")


def _require_open(dispute: Dispute) -> None:
    if dispute.status != DisputeStatus.OPEN:
        raise InvalidTransition(f"This dispute is {dispute.status}; only an open one moves.")


def _close(dispute: Dispute, status: str, actor, note: str = "", outcome: str = "") -> None:
    dispute.status = status
    dispute.decided_at = clock.now()
    dispute.decided_by = actor
    dispute.decision_note = note
    dispute.outcome = outcome[:300]
    dispute.save(update_fields=["status", "decided_at", "decided_by", "decision_note", "outcome"])


def uphold_dispute(
    *,
    dispute: Dispute,
    actor,
    note: str,
    hours: Decimal | None = None,
    severity: str | None = None,
) -> Dispute:
    """Uphold a dispute (a reviewer for work, a treasurer for pay; never the artist nor the
    person whose decision it disputes), with a note. `rejection`: the work is accepted and
    valued as an acceptance would (with `hours`/`severity` if given); `valuation`:
    `hours`/`severity` (required, worth more than now) and an adjustment entry for the
    difference; `not_received`: the payout is voided."""
    with transaction.atomic():
        dispute, subject, note = _lock_for_decision(dispute, actor, note)
        currency = dispute.program.currency
        if dispute.claim == DisputeClaim.NOT_RECEIVED:
            if hours is not None or severity is not None:
                field = "hours" if hours is not None else "severity"
                raise ValidationFailed(
                    "Only a dispute about work takes hours or severity.", field=field
                )
            void_payout(payout=subject, actor=actor, reason=note, dispute=dispute)
            outcome = (
                f"payout #{subject.pk} of {money.display(subject.amount_minor, currency)} voided"
            )
        elif dispute.claim == DisputeClaim.REJECTION:
            accepted = accept_through_dispute(
                contribution=subject,
                actor=actor,
                dispute=dispute,
                note=note,
                hours=hours,
                severity=severity,
            )
            outcome = f"accepted, valued {money.display(accepted.value_minor or 0, currency)}"
        else:
            difference = adjust_through_dispute(
                contribution=subject, actor=actor, dispute=dispute, hours=hours, severity=severity
            )
            outcome = f"value adjusted by +{money.display(difference, currency)}"
        _close(dispute, DisputeStatus.UPHELD, actor, note, outcome)
        audit.record(
            actor=actor,
            action="dispute.uphold",
            obj=dispute,
            program=dispute.program,
            note=note,
            outcome=dispute.outcome,
        )
        events.emit(dispute.program_id, "dispute.decided", events.dispute_data(dispute))
        _tell_artist(dispute, subject, "upheld")
    return dispute


def dismiss_dispute(*, dispute: Dispute, actor, note: str) -> Dispute:
    """Dismiss a dispute, with a note saying why (the same deciders as `uphold_dispute`);
    nothing else changes."""
    with transaction.atomic():
        dispute, subject, note = _lock_for_decision(dispute, actor, note)
        _close(dispute, DisputeStatus.DISMISSED, actor, note)
        audit.record(
            actor=actor, action="dispute.dismiss", obj=dispute, program=dispute.program, note=note
        )
        events.emit(dispute.program_id, "dispute.decided", events.dispute_data(dispute))
        _tell_artist(dispute, subject, "dismissed")
    return dispute


def withdraw_dispute(*, dispute: Dispute, actor) -> Dispute:
    """The artist who opened an open dispute takes it back."""
    with transaction.atomic():
        dispute = _lock_dispute(dispute)
        error = step_refusal(actor, dispute, access.DisputeStep.WITHDRAW)
        if error is not None:
            raise error
        _require_open(dispute)
        _close(dispute, DisputeStatus.WITHDRAWN, actor)
        audit.record(actor=actor, action="dispute.withdraw", obj=dispute, program=dispute.program)
    return dispute


def _tell_artist(dispute: Dispute, subject, decision: str) -> None:
    outcome = f": {dispute.outcome}" if dispute.outcome else ""
    notify(
        user=dispute.artist,
        kind=NotificationKind.DISPUTE_DECIDED,
        message=f"Your dispute about {_describe(dispute, subject)} was {decision}{outcome}.",
        subject=dispute,
        program=dispute.program,
    )


__all__ = [
    "OpenOptions",
    "claims_for",
    "decided_at",
    "dismiss_dispute",
    "open_dispute",
    "open_options",
    "step_refusal",
    "subject_type_of",
    "uphold_dispute",
    "window_closes_at",
    "withdraw_dispute",
]
