"""Deadlines applied: work left unreviewed past its due date is accepted by the system where
the program says so (`auto_accept_overdue`), and the program's reviewers are reminded of the
rest. `apply_deadlines` runs both; `manage.py apply_deadlines` (cron, or the task worker on a
schedule) calls it.

Idempotent: what the system accepts is no longer overdue, and each reminder is recorded as an
audit row per contribution and due date (`contribution.remind`), so a second run, at once or
later the same day, changes nothing. Safe when two run at once: each acceptance locks its
contribution (`lock_for_review`, as a reviewer's does) and re-checks it under the lock; each
program's reminders lock its overdue work first, so the second run waits and then finds
them recorded. Dates come from `ledger.clock` only: run under a shifted clock, it applies the
deadlines of that day.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction

from ledger import access, clock
from ledger.models import (
    AuditEvent,
    Contribution,
    NotificationKind,
    Program,
    StaffRole,
)
from ledger.models.contributions import is_overdue
from ledger.notifications import notify

from . import audit
from .contributions import accept_locked, lock_for_review

logger = logging.getLogger("ledger.deadlines")

RULE = "auto_accept_overdue"  # the audit rows' `rule` for the system's acceptances
REMIND = "contribution.remind"  # the audit action recording a reminder about one contribution


@dataclass
class DeadlineRun:
    """What one run did."""

    today: object = None  # the day whose deadlines were applied (UTC)
    accepted: list[int] = field(default_factory=list)  # contributions accepted by the system
    reminded: dict[int, int] = field(default_factory=dict)  # program id → contributions
    notifications: int = 0  # reminder notifications written

    def summary(self) -> str:
        reminded = sum(self.reminded.values())
        return (
            f"Deadlines of {self.today.isoformat()}: accepted {len(self.accepted)} overdue "
            f"contribution(s); reminded reviewers of {reminded} overdue contribution(s) in "
            f"{len(self.reminded)} program(s) ({self.notifications} notification(s))."
        )


def apply_deadlines() -> DeadlineRun:
    """Accept overdue work where the program says so, then remind reviewers of the overdue
    work left (each contribution once per due date). Each acceptance and each program's
    reminders is its own transaction: one that fails is logged and the rest still run."""
    run = DeadlineRun(today=clock.today())
    candidates = list(
        Contribution.objects.overdue(run.today)
        .filter(program__auto_accept_overdue=True)
        .order_by("review_due_on", "id")
        .values_list("pk", flat=True)
    )
    for pk in candidates:
        try:
            if auto_accept(pk, today=run.today) is not None:
                run.accepted.append(pk)
        except Exception:  # one bad row must not stop the others; the next run retries it
            logger.exception("Could not auto-accept contribution %s", pk)
    programs = list(
        Contribution.objects.overdue(run.today)
        .order_by("program_id")
        .values_list("program_id", flat=True)
        .distinct()
    )
    for program_id in programs:
        try:
            reminded, sent = remind_overdue(program_id, today=run.today)
        except Exception:
            logger.exception("Could not send the review reminders of program %s", program_id)
            continue
        if reminded:
            run.reminded[program_id] = reminded
            run.notifications += sent
    return run


def auto_accept(pk: int, *, today) -> Contribution | None:
    """Accept the contribution as the system if, under its lock, it is still overdue on
    `today` and its program still accepts overdue work; None (nothing written) otherwise.

    Valued at the rate card as a reviewer's acceptance is (`accept_locked`), dated today; the
    audit row names no actor (the system) and says the rule and the due date. Separation of
    duties does not apply: the system is nobody's artist. The artist is told, as by a
    reviewer's acceptance (`contribution_reviewed`), that it was accepted automatically.
    """
    with transaction.atomic():
        try:
            contribution = lock_for_review(Contribution(pk=pk))
        except Contribution.DoesNotExist:
            return None
        due = contribution.review_due_on
        if not is_overdue(contribution.status, due, today):
            return None  # reviewed (or withdrawn) meanwhile: by a person, or another run
        program = Program.objects.get(pk=contribution.program_id)
        if not program.auto_accept_overdue:
            return None
        contribution.program = program
        return accept_locked(
            contribution,
            actor=None,
            note=(
                f"Accepted by the system: not reviewed by its due date, {due.isoformat()}; "
                "this program accepts work left unreviewed past its deadline."
            ),
            how=f" automatically (its review was due on {due.isoformat()})",
            rule=RULE,
            review_due_on=due,
        )


def reminder_recipients(program_id: int) -> list:
    """Who is reminded of a program's overdue reviews: its reviewers, or its managers when it
    has no reviewer (active people only), in a stable order."""
    for role in (access.Role.REVIEWER, access.Role.MANAGER):
        people = [
            staff.user
            for staff in StaffRole.objects.filter(
                program_id=program_id, role=role, user__is_active=True
            )
            .select_related("user")
            .order_by("user_id")
        ]
        if people:
            return people
    return []


def remind_overdue(program_id: int, *, today) -> tuple[int, int]:
    """Remind the program's reviewers (`reminder_recipients`) of its overdue work not yet
    reminded about at its current due date: one notification per person and run, counting
    the work they may review (never their own); one audit row per contribution records the
    reminder. Returns (contributions reminded about, notifications written)."""
    with transaction.atomic():
        overdue = list(
            Contribution.objects.overdue(today)
            .filter(program_id=program_id)
            .select_for_update()
            .order_by("id")  # a stable lock order
        )
        if not overdue:
            return 0, 0
        done = {
            (object_id, (data or {}).get("review_due_on"))
            for object_id, data in AuditEvent.objects.filter(
                object_type="contribution",
                object_id__in=[str(c.pk) for c in overdue],
                action=REMIND,
            ).values_list("object_id", "data")
        }
        new = [c for c in overdue if (str(c.pk), c.review_due_on.isoformat()) not in done]
        if not new:
            return 0, 0
        program = Program.objects.get(pk=program_id)
        recipients = reminder_recipients(program_id)
        for contribution in new:
            audit.record(
                actor=None,
                action=REMIND,
                obj=contribution,
                program=program,
                review_due_on=contribution.review_due_on,
                recipients=[person.pk for person in recipients],
            )
        sent = 0
        for person in recipients:
            theirs = [c for c in new if c.artist_id != person.pk]
            if not theirs:
                continue
            notify(
                user=person,
                kind=NotificationKind.REVIEW_OVERDUE,
                message=_reminder_message(program, theirs),
                subject=theirs[0] if len(theirs) == 1 else program,
                program=program,
            )
            sent += 1
    return len(new), sent


def _reminder_message(program: Program, work: list[Contribution]) -> str:
    if len(work) == 1:
        (contribution,) = work
        return (
            f"“{contribution.title}” in {program.name} is past its review deadline "
            f"(due {contribution.review_due_on.isoformat()})."
        )
    oldest = min(c.review_due_on for c in work)
    return (
        f"{len(work)} contributions in {program.name} are past their review deadline "
        f"(the oldest was due {oldest.isoformat()})."
    )
