"""Random submits, reviews, payouts, voids and reversals, checked after every step against a
plain in-memory model of what each artist is owed."""

import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger import queries, services
from ledger.errors import InsufficientBalance, InvalidTransition, NotAllowed
from ledger.models import AccountBalance, AuditEvent, Entry, Membership, Payout, Posting
from ledger.money import value_of_hours
from tests.conftest import TODAY, make_program
from tests.factories import UserFactory

_ids = itertools.count()
BOUNTY = {"low": 1000, "medium": 5000, "high": 20000, "critical": 50000}
RATE = {"USD": 4500, "JPY": 3333, "KWD": 12345}


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        n = next(_ids)
        self.admin = UserFactory(username=f"sm-admin-{n}", is_superuser=True)
        self.artists = [UserFactory(username=f"sm-artist-{n}-{i}") for i in range(2)]
        self.programs = []
        for currency in RATE:
            program = make_program(self.admin, currency=currency, hourly=RATE[currency])
            for artist in self.artists:
                services.enroll_artist(actor=self.admin, program=program, artist=artist)
            self.programs.append(program)
        # the model: per (program id, artist id) → [valued, grants, settlements] in minor units
        self.model = defaultdict(lambda: [0, 0, 0])
        self.submitted, self.accepted, self.paid = [], [], []

    def key(self, program, artist):
        return (program.pk, artist.pk)

    @rule(
        p=st.integers(0, 2),
        a=st.integers(0, 1),
        hours=st.decimals(min_value=Decimal("0.01"), max_value=24, places=2),
        severity=st.sampled_from(list(BOUNTY)),
        feedback=st.booleans(),
    )
    def submit(self, p, a, hours, severity, feedback):
        program, artist = self.programs[p], self.artists[a]
        kwargs = {"hours": hours} if feedback else {"severity": severity}
        contribution = services.submit_contribution(
            actor=artist, program=program, kind="feedback" if feedback else "bug_report",
            title="work", occurred_on=TODAY, **kwargs,
        )  # fmt: skip
        self.submitted.append(contribution)

    @precondition(lambda self: self.submitted)
    @rule(i=st.integers(0, 1000), outcome=st.sampled_from(["accept", "reject", "withdraw"]))
    def review(self, i, outcome):
        contribution = self.submitted.pop(i % len(self.submitted))
        if outcome == "accept":
            done = services.accept_contribution(contribution=contribution, actor=self.admin)
            expected = (
                value_of_hours(contribution.hours, RATE[contribution.program.currency])
                if contribution.kind == "feedback"
                else BOUNTY[contribution.severity]
            )
            assert done.value_minor == expected
            self.model[self.key(done.program, done.artist)][0] += expected
            self.accepted.append(done)
        elif outcome == "reject":
            services.reject_contribution(contribution=contribution, actor=self.admin, reason="r")
        else:
            services.withdraw_contribution(contribution=contribution, actor=contribution.artist)

    @precondition(lambda self: self.accepted)
    @rule(i=st.integers(0, 1000))
    def reverse(self, i):
        contribution = self.accepted.pop(i % len(self.accepted))
        services.reverse_contribution(contribution=contribution, actor=self.admin, reason="r")
        self.model[self.key(contribution.program, contribution.artist)][0] -= (
            contribution.value_minor
        )

    @rule(
        p=st.integers(0, 2),
        a=st.integers(0, 1),
        amount=st.integers(1, 200_000),
        settlement=st.booleans(),
    )
    def pay(self, p, a, amount, settlement):
        program, artist = self.programs[p], self.artists[a]
        row = self.model[self.key(program, artist)]
        owed = row[0] - row[1] - row[2]
        try:
            payout = services.record_payout(
                actor=self.admin, artist=artist, program=program, amount_minor=amount,
                kind="settlement" if settlement else "grant",
            )  # fmt: skip
        except InsufficientBalance:
            assert settlement and amount > owed
            return
        assert not settlement or amount <= owed
        row[2 if settlement else 1] += amount
        self.paid.append(payout)

    @precondition(lambda self: self.paid)
    @rule(i=st.integers(0, 1000))
    def void(self, i):
        payout = self.paid.pop(i % len(self.paid))
        services.void_payout(payout=payout, actor=self.admin, reason="r")
        self.model[self.key(payout.program, payout.artist)][
            2 if payout.kind == "settlement" else 1
        ] -= payout.amount_minor

    # --- the artist's confirmation of a payout (self-contained: its own model, `confirmed`) ---

    @precondition(lambda self: self.paid)
    @rule(i=st.integers(0, 1000), twice=st.booleans())
    def confirm(self, i, twice):
        payout = self.paid[i % len(self.paid)]
        with pytest.raises(NotAllowed):  # nobody but its artist, operators included
            services.confirm_payout(payout=payout, actor=self.admin)
        done = services.confirm_payout(payout=payout, actor=payout.artist)
        assert done.acknowledged == "confirmed"
        if twice:  # a repeat answers the same and changes nothing
            again = services.confirm_payout(payout=payout, actor=payout.artist)
            assert again.acknowledged_at == done.acknowledged_at
        self.__dict__.setdefault("confirmed", set()).add(payout.pk)

    @rule()
    def confirm_a_void(self):
        if not hasattr(self, "programs"):
            return
        void = Payout.objects.filter(status="void", program__in=self.programs).first()
        if void is not None:
            with pytest.raises(InvalidTransition):
                services.confirm_payout(payout=void, actor=void.artist)

    @invariant()
    def confirmed_payments_agree_with_the_model(self):
        if not hasattr(self, "programs"):
            return
        confirmed = self.__dict__.get("confirmed", set())
        for program in self.programs:
            # Payouts confirmed and still paid (a void since drops out of `self.paid`).
            expected = sum(
                p.amount_minor for p in self.paid if p.program == program and p.pk in confirmed
            )
            assert queries.program_report(program).paid_confirmed_minor == expected
        audited = AuditEvent.objects.filter(action="payout.confirm", program__in=self.programs)
        assert audited.count() == len(confirmed)  # once each, however often confirmed

    @invariant()
    def books_agree_with_the_model(self):
        if not hasattr(self, "programs"):
            return
        # every entry sums to zero per currency, and so does the whole journal
        unbalanced = (
            Posting.objects.values("entry_id", "currency")
            .annotate(total=Sum("amount_minor"))
            .exclude(total=0)
        )
        assert not unbalanced.exists()
        # every balance row equals the sum of its postings
        sums = dict(
            Posting.objects.values_list("account_id").annotate(total=Sum("amount_minor")).order_by()
        )
        for account_id, balance in AccountBalance.objects.values_list(
            "account_id", "balance_minor"
        ):
            assert balance == sums.get(account_id, 0)
        # no source posted twice
        assert not (
            Entry.objects.exclude(contribution=None)
            .values("contribution_id", "kind")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )
        assert not (
            Entry.objects.exclude(payout=None)
            .values("payout_id", "kind")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )
        # each member's totals and payable balance match the model
        for program in self.programs:
            for artist in self.artists:
                valued, grants, settlements = self.model[self.key(program, artist)]
                m = Membership.objects.get(program=program, artist=artist)
                assert (m.valued_minor, m.grants_minor, m.settlements_minor) == (
                    valued,
                    grants,
                    settlements,
                )
                payable = AccountBalance.objects.get(
                    account__program=program, account__artist=artist
                )
                assert -payable.balance_minor == valued - grants - settlements


LedgerMachine.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_ledger_state_machine():
    LedgerMachine.TestCase("runTest").runTest()


@pytest.mark.django_db
def test_verify_after_random_history():
    """The verify pass agrees with the state machine's books (runs one long history)."""
    from hypothesis.stateful import run_state_machine_as_test

    from ledger.models import Program
    from ledger.verify import verify_program

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=3, stateful_step_count=40, deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )  # fmt: skip
    for program in Program.objects.all():
        result = verify_program(program)
        assert result.ok, result.problems
