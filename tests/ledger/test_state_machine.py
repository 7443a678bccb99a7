"""Random submits, reviews, payouts, voids and reversals, and disputes about them (opened,
upheld with adjustments, acceptances and voids, dismissed, withdrawn), checked after every step
against a plain in-memory model of what each artist is owed."""

import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger import queries, services
from ledger.errors import (
    AlreadyDisputed,
    InsufficientBalance,
    InvalidTransition,
    NotAllowed,
    ValidationFailed,
)
from ledger.models import (
    AccountBalance,
    AuditEvent,
    Contribution,
    Dispute,
    Entry,
    Membership,
    Payout,
    Posting,
)
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
        # no source posted twice (an acceptance may be adjusted any number of times)
        assert not (
            Entry.objects.exclude(contribution=None)
            .exclude(kind="adjustment")
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

    # --- disputes: self-contained rules over the same model ----------------------------------
    # Every review and payment above is the operator `admin`'s; a second operator decides the
    # disputes about them, and `admin` those about the second's decisions (an upheld rejection
    # makes the second the work's reviewer). The model: `self.disputes` maps each open
    # dispute's id to (dispute, subject); `self.disputed` holds the subjects with one open.

    def _dispute_state(self):
        if not hasattr(self, "disputes"):
            self.admin2 = UserFactory(username=f"sm-admin2-{next(_ids)}", is_superuser=True)
            self.disputes, self.disputed = {}, set()

    def _decider(self, dispute):
        subject = dispute.contribution or dispute.payout
        reviewer = getattr(subject, "reviewed_by_id", None) or subject.created_by_id
        return self.admin2 if reviewer == self.admin.pk else self.admin

    @rule(
        i=st.integers(0, 1000),
        claim=st.sampled_from(["rejection", "valuation", "not_received"]),
    )
    def open_dispute(self, i, claim):
        """The artist disputes something of its own: `claim` if anything fits it, else the
        next claim that does."""
        self._dispute_state()
        claims = ["rejection", "valuation", "not_received"]
        start = claims.index(claim)
        for candidate in claims[start:] + claims[:start]:
            pool = self._disputable(candidate)
            if pool:
                claim = candidate
                break
        else:
            return
        subject = pool[i % len(pool)]
        key = (type(subject).__name__, subject.pk)
        try:
            dispute = services.open_dispute(
                actor=subject.artist, subject=subject, claim=claim, statement="No."
            )
        except AlreadyDisputed:
            assert key in self.disputed
            return
        assert key not in self.disputed
        self.disputed.add(key)
        self.disputes[dispute.pk] = (dispute, subject)

    def _disputable(self, claim):
        """What `claim` may be made about, as the model knows it."""
        if claim == "valuation":
            return self.accepted
        if claim == "not_received":
            return self.paid
        return list(
            Contribution.objects.filter(status="rejected", program__in=self.programs)
            .select_related("program", "artist")
            .order_by("id")
        )

    def _settle(self, dispute_id, subject):
        del self.disputes[dispute_id]
        self.disputed.discard((type(subject).__name__, subject.pk))

    @precondition(lambda self: getattr(self, "disputes", None))
    @rule(i=st.integers(0, 1000), more=st.integers(1, 400))
    def uphold_dispute(self, i, more):
        dispute_id = sorted(self.disputes)[i % len(self.disputes)]
        dispute, subject = self.disputes[dispute_id]
        decider = self._decider(dispute)
        if dispute.claim == "not_received":
            if subject not in self.paid:  # voided since it was disputed
                with pytest.raises(InvalidTransition):
                    services.uphold_dispute(dispute=dispute, actor=decider, note="y")
                return
            services.uphold_dispute(dispute=dispute, actor=decider, note="y")
            self.paid.remove(subject)
            self.model[self.key(subject.program, subject.artist)][
                2 if subject.kind == "settlement" else 1
            ] -= subject.amount_minor
        elif dispute.claim == "rejection":
            services.uphold_dispute(dispute=dispute, actor=decider, note="y")
            subject.refresh_from_db()
            expected = (
                value_of_hours(subject.hours, RATE[subject.program.currency])
                if subject.kind == "feedback"
                else BOUNTY[subject.severity]
            )
            assert (subject.status, subject.value_minor) == ("accepted", expected)
            self.model[self.key(subject.program, subject.artist)][0] += expected
            self.accepted.append(subject)
        else:
            if subject not in self.accepted:  # reversed since it was disputed
                with pytest.raises(InvalidTransition):
                    services.uphold_dispute(
                        dispute=dispute, actor=decider, note="y", hours=Decimal(1)
                    )
                return
            if not self._uphold_valuation(dispute, subject, decider, more):
                return  # worth no more: refused, still open
        self._settle(dispute_id, subject)

    def _uphold_valuation(self, dispute, subject, decider, more) -> bool:
        """Value the work higher (hours + more/100, or one severity up); where it cannot go
        higher (24 hours, critical) the uphold is refused and the dispute stays open (False)."""
        rate = RATE[subject.program.currency]
        if subject.kind == "feedback":
            hours = min(subject.hours + Decimal(more) / 100, Decimal(24))
            new_value, change = value_of_hours(hours, rate), {"hours": hours}
        else:
            levels = list(BOUNTY)
            severity = levels[min(levels.index(subject.severity) + 1, len(levels) - 1)]
            new_value, change = BOUNTY[severity], {"severity": severity}
        if new_value <= subject.value_minor:
            with pytest.raises(ValidationFailed):
                services.uphold_dispute(dispute=dispute, actor=decider, note="y", **change)
            dispute.refresh_from_db()
            assert dispute.status == "open"
            return False
        services.uphold_dispute(dispute=dispute, actor=decider, note="y", **change)
        self.model[self.key(subject.program, subject.artist)][0] += new_value - subject.value_minor
        # The object the reverse rule reverses: its value is now the adjusted one.
        subject.value_minor = new_value
        for name, value in change.items():
            setattr(subject, name, value)
        entry = Entry.objects.get(dispute=dispute)
        assert entry.kind == "adjustment" and entry.adjusts.contribution_id == subject.pk
        return True

    @precondition(lambda self: self.accepted)
    @rule(i=st.integers(0, 1000), more=st.integers(1, 400))
    def revalue(self, i, more):
        """Open a valuation dispute and decide it at once (adjustments are the point of the
        exercise; the open and uphold rules alone reach them rarely)."""
        self._dispute_state()
        subject = self.accepted[i % len(self.accepted)]
        if ("Contribution", subject.pk) in self.disputed:
            return
        dispute = services.open_dispute(
            actor=subject.artist, subject=subject, claim="valuation", statement="More."
        )
        decider = self._decider(dispute)
        if not self._uphold_valuation(dispute, subject, decider, more):
            services.dismiss_dispute(dispute=dispute, actor=decider, note="Worth no more.")

    @precondition(lambda self: getattr(self, "disputes", None))
    @rule(i=st.integers(0, 1000), withdraw=st.booleans())
    def close_dispute(self, i, withdraw):
        dispute_id = sorted(self.disputes)[i % len(self.disputes)]
        dispute, subject = self.disputes[dispute_id]
        if withdraw:
            services.withdraw_dispute(dispute=dispute, actor=subject.artist)
        else:
            services.dismiss_dispute(dispute=dispute, actor=self._decider(dispute), note="n")
        self._settle(dispute_id, subject)

    @invariant()
    def disputes_agree_with_the_model(self):
        if not hasattr(self, "disputes"):
            return
        still_open = set(
            Dispute.objects.filter(program__in=self.programs, status="open").values_list(
                "pk", flat=True
            )
        )
        assert still_open == set(self.disputes)
        for contribution in self.accepted:
            stored = Contribution.objects.get(pk=contribution.pk)
            assert (stored.status, stored.value_minor) == ("accepted", contribution.value_minor)


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
