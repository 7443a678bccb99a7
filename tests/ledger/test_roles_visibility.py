"""No sequence of role grants, revocations and enrolments lets anyone see another program's
rows: after every step, each user sees exactly the rows of the programs it holds a role in
and the rows about itself, through both renderings of its scope (the ORM's `visible_to` and
the plain-SQL lists of `ledger.queries`), and the two renderings select the same rows."""

import itertools

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from accounts.models import User
from ledger import access, queries, services
from ledger.errors import NotAllowed, ValidationFailed
from ledger.models import Contribution, Entry, Membership, Payout, Program, StaffRole
from tests.conftest import accepted_work, log_feedback, make_program
from tests.factories import UserFactory

_ids = itertools.count()
PEOPLE = 3  # plain users the steps make members and staff
PROGRAMS = 2
ROLES = [role.value for role in access.ROLES]

person = st.integers(0, PEOPLE - 1)
program_index = st.integers(0, PROGRAMS - 1)
role = st.sampled_from(ROLES)


class RolesMachine(RuleBasedStateMachine):
    """The model: which roles each person holds where, and which programs it belongs to."""

    @initialize()
    def setup(self):
        n = next(_ids)
        self.operator = UserFactory(username=f"rv-op-{n}", is_superuser=True)
        self.people = [UserFactory(username=f"rv-{n}-{i}") for i in range(PEOPLE)]
        self.programs = []
        for currency in ("USD", "EUR")[:PROGRAMS]:
            program = make_program(self.operator, currency=currency)
            # Someone none of the people are, with work and pay: rows to hide.
            regular = UserFactory(username=f"rv-{n}-{currency}")
            services.enroll_artist(actor=self.operator, program=program, artist=regular)
            accepted_work(program, regular, self.operator)
            log_feedback(program, regular)
            services.record_payout(
                actor=self.operator, artist=regular, program=program, amount_minor=7, kind="grant"
            )
            self.programs.append(program)
        self.roles = {}  # (person, program index) → set of roles
        self.members = set()  # (person, program index)

    def held(self, i, p):
        return self.roles.setdefault((i, p), set())

    # --- Steps -------------------------------------------------------------------------

    @rule(i=person, p=program_index, r=role)
    def operator_grants(self, i, p, r):
        self._grant(self.operator, i, p, r, allowed=True)

    @rule(actor=person, i=person, p=program_index, r=role)
    def person_grants(self, actor, i, p, r):
        self._grant(self.people[actor], i, p, r, allowed="manager" in self.held(actor, p))

    def _grant(self, actor, i, p, r, *, allowed):
        actor = User.objects.get(pk=actor.pk)  # roles as they are now
        try:
            services.grant_role(actor=actor, program=self.programs[p], user=self.people[i], role=r)
        except NotAllowed:
            assert not allowed
        except ValidationFailed as exc:  # held already
            assert allowed and r in self.held(i, p) and exc.field == "role"
        else:
            assert allowed and r not in self.held(i, p)
            self.held(i, p).add(r)

    @rule(actor=st.none() | person, i=person, p=program_index, r=role)
    def revoke(self, actor, i, p, r):
        row = StaffRole.objects.filter(
            program=self.programs[p], user=self.people[i], role=r
        ).first()
        assert (row is not None) == (r in self.held(i, p))
        if row is None:
            return
        who = self.operator if actor is None else User.objects.get(pk=self.people[actor].pk)
        allowed = actor is None or "manager" in self.held(actor, p)
        try:
            services.revoke_role(actor=who, staff=row)
        except NotAllowed:
            assert not allowed
        else:
            assert allowed  # never the last manager: the operator created the program
            self.held(i, p).discard(r)

    @rule(i=person, p=program_index, accept=st.booleans())
    def enrol_and_work(self, i, p, accept):
        program, artist = self.programs[p], self.people[i]
        if (i, p) not in self.members:
            services.enroll_artist(actor=self.operator, program=program, artist=artist)
            self.members.add((i, p))
        if accept:
            accepted_work(program, artist, self.operator)
        else:
            log_feedback(program, artist)

    @rule(i=person, p=program_index)
    def pay(self, i, p):
        if (i, p) in self.members:
            services.record_payout(
                actor=self.operator,
                artist=self.people[i],
                program=self.programs[p],
                amount_minor=3,
                kind="grant",
            )

    # --- What each person sees ---------------------------------------------------------

    @invariant()
    def everyone_sees_exactly_its_programs_and_itself(self):
        rows = Rows.load()
        for i, user in enumerate(self.people):
            user = User.objects.get(pk=user.pk)  # a fresh object: no roles cached
            staff_of = {self.programs[p].pk for p in range(PROGRAMS) if self.held(i, p)}
            member_of = {self.programs[p].pk for p in range(PROGRAMS) if (i, p) in self.members}
            scope = access.scope_of(user)
            assert scope.programs == staff_of and scope.artist_id == user.pk
            assert not scope.everything
            rows.check(user, staff_of, member_of)

    @invariant()
    def the_operator_sees_everything(self):
        assert access.scope_of(User.objects.get(pk=self.operator.pk)).everything


def ids(queryset):
    return set(queryset.values_list("pk", flat=True))


def sql_ids(table, scope, artist_column, program_column):
    """The ids of `table` that `scope.sql()` selects, by plain SQL."""
    conditions = scope.sql(artist_column, program_column) or [("1 = 1", [])]
    where = " AND ".join(sql for sql, _ in conditions)
    params = [p for _, ps in conditions for p in ps]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id FROM {table} t WHERE {where}", params)
        return {row[0] for row in cursor.fetchall()}


class Rows:
    """Every row's program and artist, read once per step: what each person should see is
    worked out from them here, not by the code under test."""

    MODELS = (
        (Contribution, "ledger_contribution"),
        (Payout, "ledger_payout"),
        (Membership, "ledger_membership"),
    )

    @classmethod
    def load(cls):
        rows = cls()
        rows.about = {
            model: list(model.objects.values_list("pk", "program_id", "artist_id"))
            for model, _ in cls.MODELS
        }
        rows.entries = list(Entry.objects.values_list("pk", "program_id"))
        rows.entry_artists = {}
        for entry_id, artist_id in Entry.objects.filter(
            postings__account__artist__isnull=False
        ).values_list("pk", "postings__account__artist_id"):
            rows.entry_artists.setdefault(entry_id, set()).add(artist_id)
        rows.programs = list(Program.objects.values_list("pk", flat=True))
        rows.staff = list(StaffRole.objects.values_list("pk", "program_id"))
        return rows

    def check(self, user, staff_of, member_of):
        """Assert `user` sees the rows of `staff_of` and the rows about itself, nothing else,
        through the ORM's `visible_to`, the scope's SQL and the API's plain-SQL lists."""
        scope = access.scope_of(user)

        def about(model):
            return {
                pk
                for pk, program, artist in self.about[model]
                if program in staff_of or artist == user.pk
            }

        for model, table in self.MODELS:
            expected = about(model)
            assert ids(model.objects.visible_to(user)) == expected, model
            assert sql_ids(table, scope, "t.artist_id", "t.program_id") == expected, model
        listed = queries.contribution_rows(user)[0:100_000]
        assert {row["id"] for row in listed} == about(Contribution)
        memberships = {
            (program, artist)
            for _, program, artist in self.about[Membership]
            if program in staff_of or artist == user.pk
        }
        listed = queries.balance_rows(user)[0:100_000]
        assert {(row["program"], row["artist"]) for row in listed} == memberships
        expected = {
            pk
            for pk, program in self.entries
            if program in staff_of or user.pk in self.entry_artists.get(pk, ())
        }
        assert ids(queries.visible_entries(user)) == expected
        assert ids(Program.objects.visible_to(user)) == staff_of | member_of
        for program in self.programs:
            assert scope.staff_of(program) == (program in staff_of)
            assert scope.sees(program, user.pk)
            assert scope.sees(program, -1) == (program in staff_of)
            assert access.can(user, access.Action.READ, program) == (program in staff_of)
        expected = {pk for pk, program in self.staff if program in staff_of}
        assert ids(StaffRole.objects.visible_to(user)) == expected
        # The people it sees: itself and the members of its programs.
        members = {artist for _, program, artist in self.about[Membership] if program in staff_of}
        assert ids(User.objects.visible_to(user)) == {user.pk} | members


RolesMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_no_sequence_of_roles_shows_another_programs_rows():
    RolesMachine.TestCase("runTest").runTest()


@pytest.mark.django_db
def test_a_cached_role_is_forgotten_when_it_changes(admin, artist, program):
    """Roles are read once per user object: the services forget them when they change them,
    so the same object sees the change at once."""
    assert access.scope_of(artist).programs == frozenset()
    staff = services.grant_role(actor=admin, program=program, user=artist, role="auditor")
    assert access.scope_of(artist).programs == {program.pk}  # granted: forgotten
    services.revoke_role(actor=admin, staff=staff)
    assert access.scope_of(artist).programs == frozenset()
