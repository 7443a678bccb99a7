"""Programs, rate cards and memberships."""

from django.db import IntegrityError, transaction
from django.db.models import Q

from ledger import access, money
from ledger.errors import InvalidTransition, ValidationFailed
from ledger.models import (
    AccountKind,
    LedgerHead,
    Membership,
    Program,
    RateCard,
    Severity,
    StaffRole,
)
from ledger.models.contributions import ContributionStatus
from ledger.models.programs import ProgramStatus

from . import audit
from .banking import PAYER_SETTINGS, set_payer_account
from .common import require_not_too_early, require_text
from .journal import open_account
from .review_due import move_review_due_dates
from .valuation import estimate


def create_program(*, actor, name: str, currency: str, description: str = "", public=False):
    """Create a program with its labor and cash accounts and an empty hash chain; its
    creator (holding the Django permission `ledger.add_program`) becomes its manager."""
    access.require_permission(
        actor, "ledger.add_program", "Creating a program needs the permission to add programs."
    )
    if not money.is_currency(currency):
        raise ValidationFailed("Not an ISO 4217 currency code.", field="currency")
    name = require_text(name, "name", "A name is required.")
    with transaction.atomic():
        program = Program.objects.create(
            name=name, currency=currency, description=description, public=public, created_by=actor
        )
        LedgerHead.objects.create(program=program)
        open_account(program=program, kind=AccountKind.LABOR)
        open_account(program=program, kind=AccountKind.CASH)
        StaffRole.objects.create(
            program=program, user=actor, role=access.Role.MANAGER, granted_by=actor
        )
        access.forget(actor)
        # This event's own details; how an audit row is written has one home (audit.record).
        audit.record(
            actor=actor,
            action="program.create",
            obj=program,
            program=program,
            name=name,
            currency=currency,
            public=public,
        )
    return program


def add_rate_card(
    *, actor, program: Program, effective_from, hourly_rate_minor: int, bounties: dict[str, int]
) -> RateCard:
    """Publish a rate card. It values work from `effective_from` until a later card.

    Submitted (unreviewed) work the new card now covers gets its estimate recomputed in the
    same transaction, so pending value always reflects the card that will apply.
    """
    access.require(actor, access.Action.MANAGE, program.pk)
    require_not_too_early(effective_from, "effective_from")
    amounts = {"hourly_rate": hourly_rate_minor} | {
        f"bug_bounties.{k}": v for k, v in bounties.items()
    }
    for field, amount in amounts.items():
        if not isinstance(amount, int) or amount < 0 or amount > money.MAX_MINOR:
            raise ValidationFailed("Must be an amount of at least zero.", field=field)
    missing = [s for s in Severity.values if s not in bounties]
    if missing:
        raise ValidationFailed("A bounty is required.", field=f"bug_bounties.{missing[0]}")
    try:
        with transaction.atomic():
            card = RateCard.objects.create(
                program=program,
                effective_from=effective_from,
                hourly_rate_minor=hourly_rate_minor,
                **{f"bounty_{s}_minor": bounties[s] for s in Severity.values},
                created_by=actor,
            )
            # This event's own details; how an audit row is written has one home (audit.record).
            audit.record(
                actor=actor,
                action="ratecard.create",
                obj=card,
                program=program,
                effective_from=effective_from,
                hourly_rate_minor=hourly_rate_minor,
                bounties=bounties,
            )
            pending = (
                program.contributions.filter(
                    status=ContributionStatus.SUBMITTED, occurred_on__gte=effective_from
                )
                .select_for_update()
                .order_by("id")  # a stable lock order
            )
            for contribution in pending:
                new = estimate(contribution)
                if new != contribution.estimate_minor:
                    contribution.estimate_minor = new
                    contribution.save(update_fields=["estimate_minor"])
    except IntegrityError:
        if RateCard.objects.filter(program=program, effective_from=effective_from).exists():
            raise ValidationFailed(
                "A rate card with this date already exists; publish one with a later date.",
                field="effective_from",
            ) from None
        raise
    return card


def _require_known_person(actor, person, field: str) -> None:
    """An active person the actor already sees (`User.objects.visible_to`: a member of, or
    someone who accepted an invitation to, one of its programs; an operator sees everyone).
    Anyone else joins by invitation, so a manager cannot probe other accounts by id.
    `actor` None: the system, acting on an accepted invitation."""
    if person is None or not person.is_active:
        raise ValidationFailed("No such active user.", field=field)
    if (
        actor is not None
        and not type(person).objects.visible_to(actor).filter(pk=person.pk).exists()
    ):
        raise ValidationFailed("No such active user.", field=field)


def enroll_artist(*, actor, program: Program, artist) -> Membership:
    """Make `artist` a member of `program` and open its payable account. A manager enrols
    someone it can already see (a member or invitee of one of its programs); an operator
    anyone. `actor` None: the system, for an accepted invitation."""
    if actor is not None:
        access.require(actor, access.Action.MANAGE, program.pk)
    _require_known_person(actor, artist, "artist")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(program=program, artist=artist)
            open_account(program=program, kind=AccountKind.PAYABLE, artist=artist)
            audit.record(
                actor=actor,
                action="membership.create",
                obj=membership,
                program=program,
                artist=artist.pk,
            )
    except IntegrityError:
        if Membership.objects.filter(program=program, artist=artist).exists():
            raise ValidationFailed("Already a member of this program.", field="artist") from None
        raise
    return membership


# What a manager may change on a program: name, description, public, status, the approval
# threshold (minor units or None) and the deadlines. `currency` never changes: every amount is
# in it.
DEADLINES = ("review_within_days", "pay_within_days", "dispute_window_days")
SETTINGS = (
    "name",
    "description",
    "public",
    "status",
    "approval_threshold_minor",
    *DEADLINES,
    "auto_accept_overdue",
)
DEADLINE_RANGE = (1, 365)  # days; the check constraint program_deadlines_in_range says it too


def _check_deadline(name: str, days) -> None:
    low, high = DEADLINE_RANGE
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise ValidationFailed(f"A whole number of days from {low} to {high}.", field=name)


def update_program(*, actor, program: Program, **changes) -> Program:
    """Change a program's settings (a manager's); the audit row holds old and new values.

    A new `review_within_days` moves the due date of the program's submitted work with it
    (`review_due.move_review_due_dates`), in the same transaction; the audit row says how
    many moved."""
    access.require(actor, access.Action.MANAGE, program.pk)
    unknown = set(changes) - set(SETTINGS) - set(PAYER_SETTINGS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed("This setting cannot be changed.", field=field)
    if "name" in changes:
        changes["name"] = require_text(changes["name"], "name", "A name is required.")
    if "status" in changes and changes["status"] not in ProgramStatus.values:
        raise ValidationFailed("Status must be active or closed.", field="status")
    threshold = changes.get("approval_threshold_minor")
    if threshold is not None and (
        not isinstance(threshold, int) or not 0 < threshold <= money.MAX_MINOR
    ):
        raise ValidationFailed(
            "The threshold must be greater than zero.", field="approval_threshold"
        )
    for name in DEADLINES:
        if name in changes:
            _check_deadline(name, changes[name])
    if "auto_accept_overdue" in changes and not isinstance(changes["auto_accept_overdue"], bool):
        raise ValidationFailed("Must be true or false.", field="auto_accept_overdue")
    with transaction.atomic():
        # NO KEY UPDATE: settings changes and submissions reading the deadline (SHARE) wait
        # for each other; the inserts naming the program (KEY SHARE: entries, work, audit
        # rows) never do, so a review holding its work's row can always finish while this
        # waits for that row to move its due date.
        program = Program.objects.select_for_update(no_key=True).get(pk=program.pk)
        payer = {name: changes.pop(name) for name in PAYER_SETTINGS if name in changes}
        payer_diff = set_payer_account(actor=actor, program=program, **payer) if payer else {}
        diff = {}
        for name, value in changes.items():
            old = getattr(program, name)
            if old != value:
                diff[name] = [old, value]
                setattr(program, name, value)
        if diff or payer_diff:
            if diff:
                program.save(update_fields=list(diff))
            details = {"payer_account": payer_diff} if payer_diff else {}
            if "review_within_days" in diff:
                details["review_due_dates_moved"] = move_review_due_dates(
                    program.pk, program.review_within_days
                )
            audit.record(
                actor=actor,
                action="program.update",
                obj=program,
                program=program,
                changes=diff,
                **details,
            )
    return program


def grant_role(*, actor, program: Program, user, role: str) -> StaffRole:
    """Give `user` a role in `program` (a manager's act; `actor` None: the system, for an
    accepted invitation). Granting a role already held is refused, naming `role`."""
    if actor is not None:
        access.require(actor, access.Action.MANAGE, program.pk)
    if role not in access.ROLES:
        raise ValidationFailed(
            "Role must be manager, reviewer, treasurer or auditor.", field="role"
        )
    _require_known_person(actor, user, "user")
    try:
        with transaction.atomic():
            staff = StaffRole.objects.create(
                program=program, user=user, role=role, granted_by=actor
            )
            audit.record(
                actor=actor,
                action="staff.grant",
                obj=staff,
                program=program,
                user=user.pk,
                role=role,
            )
    except IntegrityError:
        if StaffRole.objects.filter(program=program, user=user, role=role).exists():
            raise ValidationFailed("This person already holds this role.", field="role") from None
        raise
    access.forget(user)
    return staff


def revoke_role(*, actor, staff: StaffRole) -> None:
    """Take a role back. A program always keeps a manager: removing its last one is refused.

    A role revoked meanwhile by someone else raises `StaffRole.DoesNotExist` (nothing left
    to revoke: the interfaces answer as for any role they cannot find).
    """
    access.require(actor, access.Action.MANAGE, staff.program_id)
    given = staff
    with transaction.atomic():
        # Lock the program's manager rows and this row, in id order, so two managers cannot
        # remove each other (or the same row) at once; a row revoked meanwhile is not returned.
        locked = {
            row.pk: row
            for row in StaffRole.objects.select_for_update()
            .filter(Q(program_id=staff.program_id, role=access.Role.MANAGER) | Q(pk=staff.pk))
            .order_by("id")
        }
        if staff.pk not in locked:
            raise StaffRole.DoesNotExist("This role is no longer held.")
        staff = locked[staff.pk]
        # Again under the lock: a manager whose own role was revoked while it waited for the
        # lock may no longer revoke anyone's.
        access.forget(actor)
        access.require(actor, access.Action.MANAGE, staff.program_id)
        managers = [pk for pk, row in locked.items() if row.role == access.Role.MANAGER]
        if staff.role == access.Role.MANAGER and managers == [staff.pk]:
            raise InvalidTransition("A program keeps at least one manager; appoint another first.")
        audit.record(
            actor=actor,
            action="staff.revoke",
            obj=staff,
            program=staff.program,
            user=staff.user_id,
            role=staff.role,
        )
        staff.delete()
    # The roles read for the revoker and for the holder's object the caller gave (the row
    # above is a fresh one) are stale now.
    access.forget(actor)
    if StaffRole.user.is_cached(given):
        access.forget(given.user)
