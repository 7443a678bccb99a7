"""Contributions: submit, then accept | reject | withdraw; accepted work may be reversed."""

import datetime as dt
from decimal import Decimal

from django.db import connection, transaction

from accounts.models import User
from ledger import access, clock, money
from ledger.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotAMember,
    ValidationFailed,
)
from ledger.models import (
    AccountKind,
    Contribution,
    ContributionKind,
    ContributionStatus,
    EntryKind,
    Membership,
    NotificationKind,
    Program,
    Severity,
)
from ledger.models.programs import ProgramStatus
from ledger.notifications import RECIPIENT_COLUMNS, notify
from ledger.webhooks import events

from . import audit
from .common import (
    check_reference,
    require_plausible_date,
    require_reason,
    require_text,
    today,
)
from .journal import Line, Total, entry_accounts, post_entry, post_mirror
from .review_due import review_due_on, review_within_days
from .valuation import card_for, estimate

_SEVERITIES = frozenset(Severity.values)  # read per row of an import: built once


def _check_kind_fields(kind: str, hours: Decimal | None, severity: str | None) -> None:
    if kind == ContributionKind.FEEDBACK:
        if hours is None:
            raise ValidationFailed("Feedback needs the hours spent.", field="hours")
        if not (Decimal(0) < hours <= Decimal(24)) or hours != hours.quantize(Decimal("0.01")):
            raise ValidationFailed("Hours must be more than 0 and at most 24.", field="hours")
        if severity is not None:
            raise ValidationFailed("Severity applies only to bug reports.", field="severity")
    elif kind == ContributionKind.BUG_REPORT:
        if severity not in _SEVERITIES:
            raise ValidationFailed(
                "A bug report needs a severity: low, medium, high or critical.", field="severity"
            )
        if hours is not None:
            raise ValidationFailed("Hours apply only to feedback.", field="hours")
    else:
        raise ValidationFailed("Kind must be feedback or bug_report.", field="kind")


TITLE_MAX = 200
REFERENCE_MAX = 200
DESCRIPTION_MAX = 10_000


def check_work(
    *,
    kind: str,
    title: str,
    occurred_on: dt.date,
    hours: Decimal | None,
    severity: str | None,
    reference: str,
    description: str,
    unread: frozenset[str] = frozenset(),
) -> tuple[dict, list[ValidationFailed]]:
    """The rules for the fields of submitted work, one submission or one row of an import:
    the cleaned fields, and every field's error (in this order: title, kind with its hours
    or severity, occurred_on, reference, description). A submission raises the first; an
    import reports them all, so a bad row is fixed in one go. `unread`: fields an import
    could not even read (a date that is not one), already reported, whose rules would only
    repeat that."""
    cleaned = {"kind": kind, "hours": hours, "severity": severity, "occurred_on": occurred_on}
    errors: list[ValidationFailed] = []
    try:
        cleaned["title"] = require_text(title, "title", "A title is required.")
        if len(cleaned["title"]) > TITLE_MAX:
            raise ValidationFailed(f"At most {TITLE_MAX} characters.", field="title")
    except ValidationFailed as error:
        errors.append(error)
    try:
        if not unread & {"kind", "hours", "severity"}:
            _check_kind_fields(kind, hours, severity)
    except ValidationFailed as error:
        errors.append(error)
    try:
        if "occurred_on" not in unread:
            require_plausible_date(occurred_on, "occurred_on")
    except ValidationFailed as error:
        errors.append(error)
    try:
        cleaned["reference"] = check_reference(reference) or ""
        if len(cleaned["reference"]) > REFERENCE_MAX:
            raise ValidationFailed(f"At most {REFERENCE_MAX} characters.", field="reference")
    except ValidationFailed as error:
        errors.append(error)
    cleaned["description"] = description or ""
    if len(cleaned["description"]) > DESCRIPTION_MAX:
        errors.append(ValidationFailed("At most 10,000 characters.", field="description"))
    return cleaned, errors


def lock_for_review(contribution: Contribution) -> Contribution:
    """Re-read the contribution under a row lock, so two reviewers cannot both move it.

    FOR UPDATE on the contribution row only: locking its program too would serialise the
    whole program and deadlock against the KEY SHARE locks every insert referencing the
    program takes (found by bench/load.py). A raw query: every review runs it, and the ORM's
    compile of it cost three times the query (docs/PERFORMANCE.md). The program is the
    caller's when it has one loaded (its row is not locked either way), else read on use.
    The artist comes in the same statement (not locked), with the columns a notification
    reads (`notifications.RECIPIENT_COLUMNS`): every decision tells the artist, and a
    statement of its own per decision would cost one per row of a bulk review.
    """
    sql = _LOCK_CONTRIBUTION[connection.features.has_select_for_update]
    locked = next(iter(Contribution.objects.raw(sql, [contribution.pk])), None)
    if locked is None:
        raise Contribution.DoesNotExist("No such contribution.")
    values = [locked.__dict__.pop(f"recipient_{column}") for column in RECIPIENT_COLUMNS]
    artist = User.from_db(connection.alias, RECIPIENT_COLUMNS, values)
    artist.email_notifications = bool(artist.email_notifications)  # SQLite answers 0 or 1
    locked.artist = artist
    if Contribution.program.is_cached(contribution):
        locked.program = contribution.program
    return locked


_RECIPIENT = ", ".join(f"u.{column} AS recipient_{column}" for column in RECIPIENT_COLUMNS)
_LOCK_SQL = (
    f"SELECT c.*, {_RECIPIENT} FROM ledger_contribution c "  # noqa: S608  # nosec B608 (constant columns)
    "JOIN accounts_user u ON u.id = c.artist_id WHERE c.id = %s"
)
_LOCK_CONTRIBUTION = {
    True: _LOCK_SQL + " FOR UPDATE OF c",  # the work's row, not its artist's
    False: _LOCK_SQL,  # SQLite: IMMEDIATE transactions
}


def _save_acceptance(contribution: Contribution) -> None:
    """Write the fields acceptance sets, and only those, in plain SQL: `save()` of every
    field cost four times this statement in Python, on the path every acceptance takes."""
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            _SAVE_ACCEPTANCE,
            [
                ops.adapt_decimalfield_value(contribution.hours, 4, 2),
                contribution.severity,
                contribution.status,
                contribution.value_minor,
                contribution.estimate_minor,
                contribution.rate_card_id,
                ops.adapt_datetimefield_value(contribution.reviewed_at),
                contribution.reviewed_by_id,
                contribution.review_note,
                ops.adapt_datefield_value(contribution.accepted_on),
                contribution.pk,
            ],
        )


_SAVE_ACCEPTANCE = (
    "UPDATE ledger_contribution SET hours = %s, severity = %s, status = %s, value_minor = %s, "
    "estimate_minor = %s, rate_card_id = %s, reviewed_at = %s, reviewed_by_id = %s, "
    "review_note = %s, accepted_on = %s WHERE id = %s"
)


def _transition(contribution: Contribution, status: str) -> None:
    if not contribution.can_move_to(status):
        raise InvalidTransition(
            f"This contribution is {contribution.status}; it cannot become {status}."
        )


def _lock_for_decision(contribution: Contribution, actor, status: str) -> Contribution:
    """Lock the work for a reviewer's decision (accept, reject, reverse) and check it may be
    taken: by a reviewer of its program, never on one's own work, and only along the state
    machine's moves. Call inside the decision's transaction."""
    contribution = lock_for_review(contribution)
    access.require(
        actor, access.Action.REVIEW, contribution.program_id, artist_id=contribution.artist_id
    )
    _transition(contribution, status)
    return contribution


def _move(contribution: Contribution, status: str, **fields) -> None:
    """Move the locked work to `status`, setting the fields that record who moved it, when
    and why; saves exactly the fields it sets, so the two cannot drift apart."""
    contribution.status = status
    for name, value in fields.items():
        setattr(contribution, name, value)
    contribution.save(update_fields=["status", *fields])


def submit_contribution(
    *,
    actor,
    program: Program,
    kind: str,
    title: str,
    occurred_on: dt.date,
    description: str = "",
    hours: Decimal | None = None,
    severity: str | None = None,
    reference: str = "",
    artist=None,
) -> Contribution:
    """Log work for review. A member logs for itself; a reviewer or manager of the program
    may log for a named member (an operator, not a member, must name one)."""
    if program.status == ProgramStatus.CLOSED:
        # A closed program still reviews and pays what it has; it takes no new work.
        raise ValidationFailed("This program is closed to new work.", field="program")
    for_others = access.can(actor, access.Action.LOG_FOR_OTHERS, program.pk)
    if artist is None or artist.pk == actor.pk:
        if not Membership.objects.filter(program=program, artist=actor).exists():
            if for_others:
                raise ValidationFailed("Name the artist this work is for.", field="artist")
            raise NotAMember("You are not a member of this program.", field="program")
        artist = actor
    elif not for_others:
        raise ValidationFailed("You can only log your own work.", field="artist")
    elif not Membership.objects.filter(program=program, artist=artist).exists():
        raise NotAMember("This artist is not a member of the program.", field="artist")
    fields, errors = check_work(
        kind=kind,
        title=title,
        occurred_on=occurred_on,
        hours=hours,
        severity=severity,
        reference=reference,
        description=description,
    )
    if errors:
        raise errors[0]
    contribution = Contribution(program=program, artist=artist, submitted_by=actor, **fields)
    if card_for(contribution) is None:
        raise ValidationFailed("No rate card is in effect on this date.", field="occurred_on")
    contribution.estimate_minor = estimate(contribution)
    with transaction.atomic():
        # The program's deadline as committed now: a manager changing it waits for this
        # submission (or this one for the change), so its due date moves with the rest.
        contribution.review_due_on = review_due_on(
            contribution.submitted_at, review_within_days(program.pk)
        )
        contribution.save()
        # This event's own details; how an audit row is written has one home (audit.record).
        audit.record(
            actor=actor,
            action="contribution.submit",
            obj=contribution,
            program=program,
            kind=kind,
            hours=hours,
            severity=severity,
        )
        events.emit(program.pk, "contribution.submitted", events.contribution_data(contribution))
    return contribution


def submit_many(
    *, actor, program: Program, contributions: list[Contribution], review_within: int
) -> list[Contribution]:
    """Submit many contributions in one go (a bulk import's batch), each with its audit row,
    as `submit_contribution` submits one: status `submitted`, `submitted_by` the actor, due
    for review `review_within` days after submission (`review_due_on`).

    The caller has already applied the rules per row (`check_work`, the artist a member, a
    rate card in effect and its estimate) and read the deadline (`review_within_days`,
    holding the program row as a submission does); call inside its transaction. Only a
    reviewer or manager submits for others, and a closed program takes no new work.

    Subscribers hear of each submission as of one logged by hand (`contribution.submitted`,
    written in bulk in the same transaction, sent after it commits).
    """
    access.require(actor, access.Action.LOG_FOR_OTHERS, program.pk)
    if program.status == ProgramStatus.CLOSED:
        raise ValidationFailed("This program is closed to new work.", field="program")
    now = clock.now()
    due = review_due_on(now, review_within)
    for contribution in contributions:
        contribution.program = program
        contribution.status = ContributionStatus.SUBMITTED
        contribution.submitted_by = actor
        contribution.submitted_at = now
        contribution.review_due_on = due
    with transaction.atomic():
        if connection.vendor == "postgresql":
            created = _copy_in(contributions)
        else:
            created = Contribution.objects.bulk_create(contributions)
        audit.record_many(
            actor=actor,
            action="contribution.submit",
            program=program,
            events=[
                (c, {"kind": c.kind, "hours": c.hours, "severity": c.severity, "imported": True})
                for c in created
            ],
        )
        events.emit_many(
            program.pk, "contribution.submitted", (events.contribution_data(c) for c in created)
        )
    return created


# The columns a submission sets (the rest are NULL until a review), in COPY's order.
_SUBMITTED_COLUMNS = (
    "id", "program_id", "artist_id", "kind", "title", "description", "occurred_on", "hours",
    "severity", "reference", "status", "estimate_minor", "submitted_at", "review_due_on",
    "submitted_by_id", "review_note", "close_reason",
)  # fmt: skip


def _copy_in(contributions: list[Contribution]) -> list[Contribution]:
    """PostgreSQL: insert submitted work with COPY, its ids drawn from the table's sequence
    first. `bulk_create` spent three quarters of an import's write pass preparing values in
    Python (docs/PERFORMANCE.md); COPY takes the rows as they are."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_IDS, [len(contributions)])
        ids = sorted(row[0] for row in cursor.fetchall())
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        with raw.copy(_COPY_SQL) as copy:
            for contribution, pk in zip(contributions, ids, strict=True):
                contribution.pk = pk
                contribution._state.adding = False
                copy.write_row([getattr(contribution, name) for name in _COPY_ATTRIBUTES])
    return contributions


_NEXT_IDS = (
    "SELECT nextval(pg_get_serial_sequence('ledger_contribution', 'id')) "
    "FROM generate_series(1, %s)"
)
_COPY_SQL = f"COPY ledger_contribution ({', '.join(_SUBMITTED_COLUMNS)}) FROM STDIN"
_COPY_ATTRIBUTES = ["pk" if name == "id" else name for name in _SUBMITTED_COLUMNS]


def accept_contributions(*, ids, actor) -> list[Contribution]:
    """Accept every contribution in `ids`, or none of them: one transaction, so a bulk review
    never leaves half a selection accepted. Work no longer waiting for review, or any one
    acceptance refused, raises the domain error (naming the work) and nothing is accepted.
    """
    ids = set(ids)
    with transaction.atomic():
        chosen = list(Contribution.objects.pending().filter(pk__in=ids).order_by("id"))
        if len(chosen) != len(ids):
            raise InvalidTransition("Some selected contributions are no longer waiting for review.")
        accepted = []
        for contribution in chosen:
            try:
                accepted.append(accept_contribution(contribution=contribution, actor=actor))
            except DomainError as error:
                error.message = f"“{contribution.title}”: {error.message}"
                raise
    return accepted


def accept_contribution(
    *,
    contribution: Contribution,
    actor,
    note: str = "",
    hours: Decimal | None = None,
    severity: str | None = None,
) -> Contribution:
    """Accept work, freezing its value at the card in effect on `occurred_on`, and post it.

    Dr program labor, Cr the artist's payable, dated the day of acceptance. The reviewer may
    correct the hours (feedback) or severity (bug report) first.
    """
    with transaction.atomic():
        contribution = _lock_for_decision(contribution, actor, ContributionStatus.ACCEPTED)
        return accept_locked(contribution, actor=actor, note=note, hours=hours, severity=severity)


def accept_through_dispute(
    *,
    contribution: Contribution,
    actor,
    dispute,
    note: str = "",
    hours: Decimal | None = None,
    severity: str | None = None,
) -> Contribution:
    """Accept rejected work because `dispute` (a `rejection` claim) is upheld: valued and
    posted exactly as an acceptance. Only `services.disputes.uphold_dispute` calls it, inside
    its transaction, after checking who decides; the move rejected → accepted exists only
    here (`DISPUTE_TRANSITIONS`)."""
    contribution = lock_for_review(contribution)
    if not contribution.can_move_to(ContributionStatus.ACCEPTED, through_dispute=True):
        raise InvalidTransition(
            f"This contribution is {contribution.status}; only rejected work is accepted "
            "through a dispute."
        )
    return accept_locked(
        contribution,
        actor=actor,
        note=note,
        hours=hours,
        severity=severity,
        how=None,  # the artist is told of the decision (`dispute_decided`)
        dispute=dispute.pk,
    )


def _refuse_misplaced(contribution: Contribution, hours, severity) -> None:
    """Hours are for feedback, a severity for a bug report (400 naming the other)."""
    if contribution.kind == ContributionKind.FEEDBACK and severity is not None:
        raise ValidationFailed("Severity applies only to bug reports.", field="severity")
    if contribution.kind == ContributionKind.BUG_REPORT and hours is not None:
        raise ValidationFailed("Hours apply only to feedback.", field="hours")


def _checked_corrections(contribution: Contribution, hours, severity):
    """The hours and severity the work is valued with: the reviewer's corrections over what
    was logged, each only for the kind of work it applies to (400 naming it)."""
    _refuse_misplaced(contribution, hours, severity)
    new_hours = contribution.hours if hours is None else hours
    new_severity = contribution.severity if severity is None else severity
    _check_kind_fields(contribution.kind, new_hours, new_severity)
    return new_hours, new_severity


def accept_locked(
    contribution: Contribution,
    *,
    actor,
    note: str = "",
    hours: Decimal | None = None,
    severity: str | None = None,
    how: str | None = "was accepted",
    **audit_details,
) -> Contribution:
    """The acceptance itself, on work the caller has locked (`lock_for_review`) and may
    accept: value it at the card in effect on `occurred_on`, save, post it dated today, and
    write the audit row (with `audit_details` besides its own). The one home of what accepting
    does, for a reviewer (`accept_contribution` checks the role and separation of duties
    first), an upheld dispute (`accept_through_dispute`) and the system (`actor` None, by
    `services.deadlines`, which checks its own rule). The artist is told the work `how` it was
    accepted and its value, unless `how` is None (the dispute's decision tells it). Call
    inside the caller's transaction."""
    new_hours, new_severity = _checked_corrections(contribution, hours, severity)
    card = card_for(contribution)
    value = card.value_of(kind=contribution.kind, hours=new_hours, severity=new_severity)
    now = clock.now()
    changes = {}
    if new_hours != contribution.hours:
        changes["hours"] = [contribution.hours, new_hours]
    if new_severity != contribution.severity:
        changes["severity"] = [contribution.severity, new_severity]
    contribution.hours, contribution.severity = new_hours, new_severity
    contribution.status = ContributionStatus.ACCEPTED
    contribution.value_minor = value
    contribution.estimate_minor = value
    contribution.rate_card = card
    contribution.reviewed_at = now
    contribution.reviewed_by = actor
    contribution.review_note = note or ""
    contribution.accepted_on = now.astimezone(dt.UTC).date()
    _save_acceptance(contribution)
    if value:  # zero-value work (a zero card) is accepted but moves no money
        _post_acceptance(contribution, value, actor)
    audit.record(
        actor=actor,
        action="contribution.accept",
        obj=contribution,
        program=contribution.program,
        value_minor=value,
        rate_card=card.pk,
        note=note,
        changes=changes,
        **audit_details,
    )
    events.emit(
        contribution.program_id, "contribution.accepted", events.contribution_data(contribution)
    )
    if how is not None:
        value_text = money.display(value, contribution.program.currency)
        _tell_artist(contribution, actor, f"{how}: {value_text}.")
    return contribution


def _post_acceptance(contribution: Contribution, value: int, actor, *, effective_date=None):
    """Dr program labor, Cr the artist's payable: `value` minor units of accepted work."""
    program = contribution.program
    accounts = entry_accounts(program, contribution.artist_id)
    return post_entry(
        program=program,
        kind=EntryKind.ACCEPTANCE,
        lines=[
            Line(accounts[AccountKind.LABOR], value),
            Line(accounts[AccountKind.PAYABLE], -value),
        ],
        memo=f"Accepted {contribution.get_kind_display().lower()}: {contribution.title}"[:300],
        effective_date=effective_date or contribution.accepted_on,
        actor=actor,
        contribution=contribution,
        total=Total(contribution.artist_id, "valued_minor", value),
    )


def adjust_through_dispute(
    *,
    contribution: Contribution,
    actor,
    dispute,
    hours: Decimal | None = None,
    severity: str | None = None,
) -> int:
    """Value accepted work higher because `dispute` (a `valuation` claim) is upheld: the
    corrected hours (feedback) or severity (bug report), required, valued at the card that
    valued it at acceptance, must be worth more than its current value. Posts the difference
    as an `adjustment` entry (Dr labor, Cr the artist's payable) linked to the acceptance
    entry and the dispute, and keeps the work's hours, severity and value and the membership's
    valued total current. Returns the difference in minor units.

    Work accepted at value 0 has no acceptance entry to adjust: its first value is posted as
    its acceptance entry instead (so a reversal still finds what to mirror). Only
    `services.disputes.uphold_dispute` calls it, inside its transaction.
    """
    contribution = lock_for_review(contribution)
    if contribution.status != ContributionStatus.ACCEPTED:
        raise InvalidTransition(
            f"This contribution is {contribution.status}; only accepted work is revalued."
        )
    _refuse_misplaced(contribution, hours, severity)
    if contribution.kind == ContributionKind.FEEDBACK and hours is None:
        raise ValidationFailed("Give the hours the work is worth.", field="hours")
    if contribution.kind == ContributionKind.BUG_REPORT and severity is None:
        raise ValidationFailed("Give the severity the report is worth.", field="severity")
    new_hours, new_severity = _checked_corrections(contribution, hours, severity)
    card = contribution.rate_card
    value = card.value_of(kind=contribution.kind, hours=new_hours, severity=new_severity)
    old_value = contribution.value_minor or 0
    if value <= old_value:
        raise ValidationFailed(
            "An upheld valuation must value the work higher than its current value "
            f"({money.display(old_value, contribution.program.currency)}).",
            field="hours" if contribution.kind == ContributionKind.FEEDBACK else "severity",
        )
    difference = value - old_value
    changes = {}
    if new_hours != contribution.hours:
        changes["hours"] = [contribution.hours, new_hours]
    if new_severity != contribution.severity:
        changes["severity"] = [contribution.severity, new_severity]
    contribution.hours, contribution.severity = new_hours, new_severity
    contribution.value_minor = contribution.estimate_minor = value
    contribution.save(update_fields=["hours", "severity", "value_minor", "estimate_minor"])
    original = contribution.entries.filter(kind=EntryKind.ACCEPTANCE).first()
    if original is None:
        _post_acceptance(contribution, difference, actor, effective_date=today())
    else:
        program = contribution.program
        accounts = entry_accounts(program, contribution.artist_id)
        post_entry(
            program=program,
            kind=EntryKind.ADJUSTMENT,
            lines=[
                Line(accounts[AccountKind.LABOR], difference),
                Line(accounts[AccountKind.PAYABLE], -difference),
            ],
            memo=f"Adjusted after dispute #{dispute.pk}: {contribution.title}"[:300],
            effective_date=today(),
            actor=actor,
            contribution=contribution,
            adjusts=original,
            dispute=dispute,
            total=Total(contribution.artist_id, "valued_minor", difference),
        )
    audit.record(
        actor=actor,
        action="contribution.adjust",
        obj=contribution,
        program=contribution.program,
        value_minor=value,
        difference_minor=difference,
        dispute=dispute.pk,
        changes=changes,
    )
    return difference


def reject_contribution(*, contribution: Contribution, actor, reason: str) -> Contribution:
    reason = require_reason(reason)
    with transaction.atomic():
        contribution = _lock_for_decision(contribution, actor, ContributionStatus.REJECTED)
        _move(
            contribution,
            ContributionStatus.REJECTED,
            reviewed_at=clock.now(),
            reviewed_by=actor,
            review_note=reason,
        )
        audit.record(
            actor=actor,
            action="contribution.reject",
            obj=contribution,
            program=contribution.program,
            reason=reason,
        )
        events.emit(
            contribution.program_id, "contribution.rejected", events.contribution_data(contribution)
        )
        _tell_artist(contribution, actor, f"was rejected: {reason}")
    return contribution


def withdraw_contribution(*, contribution: Contribution, actor) -> Contribution:
    """The artist takes back its own submitted work."""
    with transaction.atomic():
        contribution = lock_for_review(contribution)
        if contribution.artist_id != actor.pk:
            raise NotAllowed("Only the artist who logged this work may withdraw it.")
        _transition(contribution, ContributionStatus.WITHDRAWN)
        _move(contribution, ContributionStatus.WITHDRAWN, closed_at=clock.now(), closed_by=actor)
        audit.record(
            actor=actor,
            action="contribution.withdraw",
            obj=contribution,
            program=contribution.program,
        )
    return contribution


def reverse_contribution(*, contribution: Contribution, actor, reason: str) -> Contribution:
    """Undo accepted work with the mirror of its acceptance entry and of any adjustments of it
    (the originals stay): its whole current value leaves the artist's payable."""
    reason = require_reason(reason)
    with transaction.atomic():
        # Reject's steps, by design: the shared ones have one home each (_lock_for_decision,
        # _move); what stays alike is each decision's own fields and audit details.
        contribution = _lock_for_decision(contribution, actor, ContributionStatus.REVERSED)
        _move(
            contribution,
            ContributionStatus.REVERSED,
            closed_at=clock.now(),
            closed_by=actor,
            close_reason=reason,
        )
        original = contribution.entries.filter(kind=EntryKind.ACCEPTANCE).first()
        if original is not None:
            # The acceptance and any adjustments of it: the whole current value is undone.
            post_mirror(
                original=original,
                also=list(original.adjustments.order_by("seq")),
                kind=EntryKind.REVERSAL,
                memo=f"Reversed: {contribution.title}"[:300],
                effective_date=today(),
                actor=actor,
                total=Total(contribution.artist_id, "valued_minor", -contribution.value_minor),
            )
        audit.record(
            actor=actor,
            action="contribution.reverse",
            obj=contribution,
            program=contribution.program,
            reason=reason,
        )
        events.emit(
            contribution.program_id, "contribution.reversed", events.contribution_data(contribution)
        )
        taken = money.display(contribution.value_minor or 0, contribution.program.currency)
        _tell_artist(contribution, actor, f"was reversed, taking back {taken}: {reason}")
    return contribution


def _tell_artist(contribution: Contribution, actor, outcome: str) -> None:
    """Tell the artist what a reviewer decided about its work (never the reviewer itself)."""
    notify(
        user=contribution.artist,
        kind=NotificationKind.CONTRIBUTION_REVIEWED,
        message=(
            f"Your {contribution.get_kind_display().lower()} “{contribution.title}” {outcome}"
        ),
        subject=contribution,
        program=contribution.program_id,
        actor=actor,
    )
