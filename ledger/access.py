"""Who sees what and who may do what: the one home of visibility, roles and withholding.

Roles are held per program (`StaffRole`): a `manager`, `reviewer`, `treasurer` or `auditor`
of a program reads every row of that program and writes only what its role allows; an artist
reads the rows about itself; a Django superuser is an operator, holding every role in every
program. Every read that scopes rows goes through `scope_of(user)` and every action through
`can`/`require`, so a new role or action changes this module and nothing else.

Scopes render as a `Q` (the models' named `visible_to` methods) and as a SQL condition (the
plain-SQL lists in `queries`, which are plain SQL because compiling the ORM query cost more
than the database's answer, docs/PERFORMANCE.md); tests compare the two renderings.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import connection
from django.db.models import Q

from ledger.errors import NotAllowed, SeparationOfDuties


class Role(StrEnum):
    MANAGER = "manager"  # program settings, rate cards, members, invitations, staff
    REVIEWER = "reviewer"  # accept, reject, reverse; decide disputes about contributions
    TREASURER = "treasurer"  # propose, approve, decline and void payouts; decide disputes
    # about payouts
    AUDITOR = "auditor"  # reads everything in the program, writes nothing


ROLES = tuple(Role)


class Action(StrEnum):
    """What an actor does in a program; `NEEDS` says which roles may."""

    READ = "read"  # every row of the program: contributions, payouts, ledger, audit trail
    REVIEW = "review"
    PAY = "pay"
    MANAGE = "manage"
    LOG_FOR_OTHERS = "log_for_others"  # log work on an artist's behalf
    # Full banking details: the artists' (masked on pages, whole in the payment file) and the
    # program's own paying account. Never part of READ: an auditor or reviewer reads the books,
    # not where the money goes.
    READ_BANK_DETAILS = "read_bank_details"
    READ_PAYER_ACCOUNT = "read_payer_account"


NEEDS: dict[Action, frozenset[Role]] = {
    Action.READ: frozenset(ROLES),
    Action.REVIEW: frozenset({Role.REVIEWER}),
    Action.PAY: frozenset({Role.TREASURER}),
    Action.MANAGE: frozenset({Role.MANAGER}),
    Action.LOG_FOR_OTHERS: frozenset({Role.REVIEWER, Role.MANAGER}),
    Action.READ_BANK_DETAILS: frozenset({Role.TREASURER}),
    Action.READ_PAYER_ACCOUNT: frozenset({Role.TREASURER, Role.MANAGER}),
}

REFUSAL = {
    Action.READ: "Only the program's staff may read this.",
    Action.REVIEW: "Only a reviewer of this program may review its work.",
    Action.PAY: "Only a treasurer of this program may record, approve or void its payouts.",
    Action.MANAGE: "Only a manager of this program may change it.",
    Action.LOG_FOR_OTHERS: "Only a reviewer or manager of this program may log work for others.",
    Action.READ_BANK_DETAILS: "Only a treasurer of this program may read its artists' banking "
    "details (a payment file holds them whole).",
    Action.READ_PAYER_ACCOUNT: "Only a treasurer or manager of this program may read its paying "
    "account.",
}


def _authenticated(user) -> bool:
    return user is not None and user.is_authenticated


def is_operator(user) -> bool:
    """A Django superuser: every role in every program (v1's `admin`)."""
    return _authenticated(user) and user.is_superuser


# Every request of a caller other than an operator needs its roles. Plain SQL: building and
# compiling the ORM query (`StaffRole.objects.filter(...).values_list(...)`) cost 0.6 ms of CPU
# against 0.14 ms for the statement itself (docs/PERFORMANCE.md).
_ROLES_SQL = "SELECT program_id, role FROM ledger_staffrole WHERE user_id = %s"
# A statement that reads a user (aliased `u`) may read its roles with it, saving a statement
# per request (the API's token login does): one row per role held, NULLs for none. Give the
# (program_id, role) pairs to `keep_roles`.
ROLES_JOIN = "LEFT JOIN ledger_staffrole r ON r.user_id = u.id"
ROLES_COLUMNS = "r.program_id, r.role"


def keep_roles(user, held) -> None:
    """Keep the roles read with `user`: `(program_id, role)` pairs, NULL pairs skipped."""
    roles: dict[int, set[Role]] = {}
    for program_id, role in held:
        if program_id is not None:
            roles.setdefault(program_id, set()).add(Role(role))
    user._ledger_roles = {program_id: frozenset(kept) for program_id, kept in roles.items()}


def roles_of(user) -> dict[int, frozenset[Role]]:
    """`{program_id: roles}` the user holds, read once per user object (one query per
    request, none when its login read them); `forget(user)` after changing its roles
    within the same request."""
    if not _authenticated(user) or user.is_superuser:
        return {}
    if getattr(user, "_ledger_roles", None) is None:
        with connection.cursor() as cursor:
            cursor.execute(_ROLES_SQL, [user.pk])
            keep_roles(user, cursor.fetchall())
    return user._ledger_roles


def forget(user) -> None:
    """Drop the roles read for `user`, so the next check reads them again."""
    if user is not None and hasattr(user, "_ledger_roles"):
        del user._ledger_roles


def roles_in(user, program_id) -> frozenset[Role]:
    """The roles `user` holds in the program (all of them for an operator)."""
    if is_operator(user):
        return frozenset(ROLES)
    return roles_of(user).get(program_id, frozenset())


def can(user, action: Action, program_id) -> bool:
    """Whether `user`'s roles in the program allow `action` there."""
    return bool(roles_in(user, program_id) & NEEDS[action])


# Separation of duties: nobody takes both sides of a decision about their own work or pay.
OWN_SUBJECT = {
    Action.REVIEW: "You cannot review your own work.",
    Action.PAY: "Nobody records, proposes or approves a payout to themselves.",
}
OWN_PROPOSAL = "A payout is approved by a treasurer other than the one who proposed it."


def refusal(user, action: Action, program_id, *, artist_id=None, proposer_id=None):
    """Why `user` may not take `action` in the program, as the error a service raises, or
    None when it may. `artist_id`: the artist whose work or pay the action decides;
    `proposer_id`: who proposed the payout being decided. Services raise it; pages show its
    message instead of offering a button that would be refused."""
    if not can(user, action, program_id):
        return NotAllowed(REFUSAL[action])
    if artist_id is not None and artist_id == user.pk:
        return SeparationOfDuties(OWN_SUBJECT.get(action, "Not on your own work or pay."))
    if proposer_id is not None and proposer_id == user.pk:
        return SeparationOfDuties(OWN_PROPOSAL)
    return None


def require(user, action: Action, program_id, *, artist_id=None, proposer_id=None) -> None:
    """Raise the refusal (`NotAllowed`, or `SeparationOfDuties`) unless `user` may take
    `action` in the program on this subject."""
    error = refusal(user, action, program_id, artist_id=artist_id, proposer_id=proposer_id)
    if error is not None:
        raise error


class DisputeStep(StrEnum):
    """What someone does with a dispute: the artist concerned opens or withdraws it; staff in
    the role that makes the kind of decision disputed decide it (uphold or dismiss)."""

    OPEN = "open"
    WITHDRAW = "withdraw"
    DECIDE = "decide"


# Who decides a dispute, by the kind of subject disputed: the role that made the decision.
DISPUTE_DECIDER: dict[str, Action] = {"contribution": Action.REVIEW, "payout": Action.PAY}
DISPUTE_REFUSAL = {
    DisputeStep.OPEN: "Only the artist whose work or pay this is may dispute it.",
    DisputeStep.WITHDRAW: "Only the artist who opened this dispute may withdraw it.",
    Action.REVIEW: "Only a reviewer of this program may decide disputes about its work.",
    Action.PAY: "Only a treasurer of this program may decide disputes about its payouts.",
}
OWN_DISPUTE = "Nobody decides a dispute about their own work or pay."
OWN_DECISION = "Nobody decides a dispute about their own decision."


def disputed_deciders(subject_type: str, subject) -> frozenset[int]:
    """The ids of the people whose decision a dispute about `subject` questions: the reviewer
    of a contribution; whoever recorded, proposed or approved a payout."""
    if subject_type == "contribution":
        ids = (subject.reviewed_by_id,)
    else:
        ids = (subject.created_by_id, subject.proposed_by_id, subject.approved_by_id)
    return frozenset(pk for pk in ids if pk is not None)


def dispute_refusal(
    user,
    step: DisputeStep,
    *,
    subject_type: str,
    program_id,
    artist_id,
    deciders: frozenset[int] = frozenset(),
):
    """Why `user` may not take `step` on a dispute about a `subject_type` ("contribution" or
    "payout") of `artist_id` in the program, as the error a service raises, or None when it
    may. `deciders`: `disputed_deciders` of the subject. Opening and withdrawing are the
    artist's alone; deciding is for the role that makes such decisions (a reviewer, a
    treasurer), never the artist nor anyone whose decision is disputed."""
    if step in (DisputeStep.OPEN, DisputeStep.WITHDRAW):
        if not _authenticated(user) or user.pk != artist_id:
            return NotAllowed(DISPUTE_REFUSAL[step])
        return None
    action = DISPUTE_DECIDER[subject_type]
    if not can(user, action, program_id):
        return NotAllowed(DISPUTE_REFUSAL[action])
    if artist_id == user.pk:
        return SeparationOfDuties(OWN_DISPUTE)
    if user.pk in deciders:
        return SeparationOfDuties(OWN_DECISION)
    return None


def programs_where(user, action: Action) -> frozenset[int] | None:
    """The ids of the programs where `user` may take `action`; None means every program."""
    if is_operator(user):
        return None
    return frozenset(pid for pid, roles in roles_of(user).items() if roles & NEEDS[action])


def has_permission(user, permission: str) -> bool:
    """A Django permission outside any program (`ledger.add_program`, `accounts.add_user`),
    granted by an operator; an operator has them all."""
    return _authenticated(user) and user.is_active and user.has_perm(permission)


def require_permission(user, permission: str, message: str) -> None:
    if not has_permission(user, permission):
        raise NotAllowed(message)


def is_staff(user) -> bool:
    """Staff of at least one program (or an operator): v1's `admin` role."""
    return is_operator(user) or bool(roles_of(user))


def v1_role(user) -> str:
    """The v1 `role` of a user: `admin` for staff of any program or an operator. A list of
    users reads `holds_staff_role` from its query (`UserQuerySet.with_staff_flag`) instead
    of one query per user."""
    held = getattr(user, "holds_staff_role", None)
    if held is not None:
        return "admin" if held or is_operator(user) else "artist"
    return "admin" if is_staff(user) else "artist"


@dataclass(frozen=True)
class Scope:
    """The rows a reader may see: all of them, or those of the programs it is staff of plus
    those about itself as an artist, or none."""

    everything: bool = False
    artist_id: int | None = None  # the reader as an artist: rows about it
    programs: frozenset[int] = field(default_factory=frozenset)  # every row of these programs

    def q(self, artist: str = "artist", program: str = "program") -> Q:
        """A filter for a queryset whose rows name their artist and program through the
        lookups `artist` and `program`."""
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if self.programs:
            condition |= Q(**{f"{program}_id__in": sorted(self.programs)})
        if self.artist_id is not None:
            condition |= Q(**{f"{artist}_id": self.artist_id})
        return condition

    def sql(
        self, artist_column: str | None, program_column: str, *, about_artist: str = ""
    ) -> list[tuple[str, list]]:
        """The same filter as `(SQL, parameters)` conditions for `queries.SqlRows`.

        A row is about the artist when `artist_column` holds its id or, for rows that name
        their artists elsewhere (a ledger entry, through its postings), when the condition
        `about_artist` (SQL with one %s, the artist's id) holds. The columns and conditions
        are constant SQL written by the caller, never user input.
        """
        about_artist = about_artist or f"{artist_column} = %s"
        if self.everything:
            return []
        parts, params = [], []
        if self.programs:
            ids = sorted(self.programs)
            parts.append(f"{program_column} IN ({', '.join(['%s'] * len(ids))})")
            params.extend(ids)
        if self.artist_id is not None:
            parts.append(about_artist)
            params.append(self.artist_id)
        if not parts:
            return [("1 = %s", [0])]
        return [("(" + " OR ".join(parts) + ")", params)]

    def sees(self, program_id, artist_id) -> bool:
        """Whether rows about `artist_id` in `program_id` are in the scope."""
        return (
            self.everything
            or program_id in self.programs
            or (self.artist_id is not None and self.artist_id == artist_id)
        )

    def staff_of(self, program_id) -> bool:
        """Whether the reader sees every row of the program (its staff, or an operator)."""
        return self.everything or program_id in self.programs


NOTHING = Scope()


def scope_of(user) -> Scope:
    """An operator sees every row; anyone else the rows of the programs it is staff of and
    the rows about itself; an anonymous reader none."""
    if is_operator(user):
        return Scope(everything=True)
    if not _authenticated(user):
        return NOTHING
    return Scope(artist_id=user.pk, programs=frozenset(roles_of(user)))


def is_insider(user, program) -> bool:
    """A member or staff of `program`: a reader who always sees its report's figures."""
    if not _authenticated(user):
        return False
    if scope_of(user).staff_of(program.pk):
        return True
    return program.memberships.filter(artist=user).exists()


def report_withheld(*, insider: bool, contributors: int) -> bool:
    """Whether a program's report figures are withheld from this reader.

    While fewer than `LEDGER_REPORT_MIN_CONTRIBUTORS` artists have accepted work, figures could
    single one of them out, so only the program's members and staff (insiders) see them; every
    other reader, signed in or not, sees that they are withheld.
    """
    return not insider and contributors < settings.LEDGER_REPORT_MIN_CONTRIBUTORS
