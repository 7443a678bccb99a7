"""Disputes: who opens and decides them, when, about what, and what each outcome does to the
books (balances, statements, verify, the report)."""

import datetime as dt
import threading
from decimal import Decimal

import pgtrigger
import pytest
from django.db import connection, connections

from ledger import clock, queries, services
from ledger.errors import (
    AlreadyDisputed,
    DisputeWindowClosed,
    InvalidTransition,
    NotAllowed,
    SeparationOfDuties,
    ValidationFailed,
)
from ledger.models import (
    AccountBalance,
    AuditEvent,
    Contribution,
    Dispute,
    Entry,
    Membership,
    Notification,
    Payout,
    Program,
)
from ledger.services import disputes
from ledger.verify import verify_program
from tests.conftest import log_bug, log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOUR = 4500  # the test card's hourly rate, minor units
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def staff(admin, program):
    """Two reviewers, two treasurers and an auditor of `program`."""
    people = {}
    for name, role in (
        ("reviewer1", "reviewer"),
        ("reviewer2", "reviewer"),
        ("treasurer1", "treasurer"),
        ("treasurer2", "treasurer"),
        ("auditor", "auditor"),
    ):
        people[name] = UserFactory(username=name)
        services.grant_role(actor=admin, program=program, user=people[name], role=role)
    return people


def reject(program, artist, reviewer, **kwargs):
    return services.reject_contribution(
        contribution=log_feedback(program, artist, **kwargs), actor=reviewer, reason="Off topic"
    )


def accept(contribution, reviewer, **kwargs):
    return services.accept_contribution(contribution=contribution, actor=reviewer, **kwargs)


def open_(artist, subject, claim, **kwargs):
    kwargs.setdefault("statement", "The decision is wrong.")
    return services.open_dispute(actor=artist, subject=subject, claim=claim, **kwargs)


def owed(program, artist) -> int:
    return queries.payable_balance_minor(program, artist)


def valued(program, artist) -> int:
    return Membership.objects.get(program=program, artist=artist).valued_minor


def decided_message(artist) -> str:
    return Notification.objects.of(artist).get(kind="dispute_decided").message


def inbox(user):
    """The kinds of `user`'s notifications about disputes, newest first (reviews and payments
    tell people of their own events, tested in tests/ledger/test_notifications.py)."""
    rows = Notification.objects.of(user).filter(kind__startswith="dispute_")
    return list(rows.values_list("kind", flat=True))


# --- opening ----------------------------------------------------------------------------------


def test_the_artist_opens_a_dispute_about_its_rejected_work(program, artist, staff):
    work = reject(program, artist, staff["reviewer1"])
    dispute = open_(
        artist, work, "rejection", evidence_url="https://example.org/brief", statement=" In scope "
    )
    assert (dispute.status, dispute.claim, dispute.subject_type) == (
        "open",
        "rejection",
        "contribution",
    )
    assert (dispute.contribution_id, dispute.payout_id, dispute.program_id) == (
        work.pk,
        None,
        program.pk,
    )
    assert dispute.statement == "In scope" and dispute.evidence_url == "https://example.org/brief"
    assert dispute.decided_at is None and dispute.opened_at is not None
    assert AuditEvent.objects.filter(action="dispute.open", object_id=str(dispute.pk)).exists()
    # Told to those who may decide it: the other reviewer, not its rejecter nor the treasurers.
    assert inbox(staff["reviewer2"]) == ["dispute_opened"]
    assert inbox(staff["reviewer1"]) == inbox(staff["treasurer1"]) == []
    assert inbox(artist) == []
    message = Notification.objects.get(user=staff["reviewer2"]).message
    assert "Artist1 disputes the rejection of “Feedback session” in Program USD" in message


def test_nobody_on_the_staff_may_decide_it_so_the_operators_are_told(admin, program, artist):
    work = reject(program, artist, admin)  # the operator rejected; no reviewer of its own
    other_operator = UserFactory(username="op2", is_superuser=True)
    open_(artist, work, "rejection")
    assert inbox(other_operator) == ["dispute_opened"]
    assert inbox(admin) == []  # the operator whose decision it is


@pytest.mark.parametrize(
    ("state", "claim"),
    [
        ("submitted", "rejection"),
        ("submitted", "valuation"),
        ("accepted", "rejection"),
        ("rejected", "valuation"),
        ("withdrawn", "rejection"),
        ("reversed", "valuation"),
        ("rejected", "not_received"),
        ("accepted", "bogus"),
    ],
)
def test_a_claim_that_does_not_fit_the_work_is_refused_naming_claim(
    program, artist, staff, state, claim
):
    work = log_feedback(program, artist)
    if state == "accepted":
        accept(work, staff["reviewer1"])
    elif state == "rejected":
        work = services.reject_contribution(contribution=work, actor=staff["reviewer1"], reason="x")
    elif state == "withdrawn":
        services.withdraw_contribution(contribution=work, actor=artist)
    elif state == "reversed":
        accept(work, staff["reviewer1"])
        services.reverse_contribution(contribution=work, actor=staff["reviewer1"], reason="x")
    work.refresh_from_db()
    with pytest.raises(ValidationFailed) as caught:
        open_(artist, work, claim)
    assert caught.value.field == "claim"
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("state", ["proposed", "declined", "void"])
def test_only_a_paid_payout_is_disputed_as_never_received(admin, program, artist, staff, state):
    program = services.update_program(actor=admin, program=program, approval_threshold_minor=100)
    payout = services.record_payout(
        actor=staff["treasurer1"], artist=artist, program=program, amount_minor=500, kind="grant"
    )
    if state == "declined":
        services.decline_payout(payout=payout, actor=staff["treasurer2"], reason="No")
    elif state == "void":
        services.approve_payout(payout=payout, actor=staff["treasurer2"])
        services.void_payout(payout=payout, actor=staff["treasurer2"], reason="Error")
    payout.refresh_from_db()
    with pytest.raises(ValidationFailed) as caught:
        open_(artist, payout, "not_received")
    assert caught.value.field == "claim"
    with pytest.raises(ValidationFailed, match="claims not_received"):
        open_(artist, payout, "rejection")


@pytest.mark.parametrize("who", ["artist2", "reviewer1", "reviewer2", "treasurer1", "admin"])
def test_only_the_artist_concerned_opens_a_dispute(request, program, artist, staff, who):
    person = staff.get(who) or request.getfixturevalue(who)
    work = reject(program, artist, staff["reviewer1"])
    with pytest.raises(NotAllowed, match="Only the artist whose work or pay"):
        services.open_dispute(actor=person, subject=work, claim="rejection", statement="No.")
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"statement": "   "}, "statement"),
        ({"statement": "\u200b"}, "statement"),
        ({"statement": "x" * 10_001}, "statement"),
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
        ({"evidence_url": "ftp://example.org/x"}, "evidence_url"),
        ({"evidence_url": "not a link"}, "evidence_url"),
        ({"evidence_url": "https://" + "a" * 2000 + ".org"}, "evidence_url"),
    ],
)
def test_bad_statement_or_evidence_is_refused_naming_it(program, artist, staff, fields, field):
    work = reject(program, artist, staff["reviewer1"])
    with pytest.raises(ValidationFailed) as caught:
        open_(artist, work, "rejection", **fields)
    assert caught.value.field == field
    assert not Dispute.objects.exists()


def test_one_open_dispute_per_subject(program, artist, staff):
    work = reject(program, artist, staff["reviewer1"])
    first = open_(artist, work, "rejection")
    with pytest.raises(AlreadyDisputed) as caught:
        open_(artist, work, "rejection")
    assert caught.value.code == "already_disputed" and caught.value.status == 409
    services.dismiss_dispute(dispute=first, actor=staff["reviewer2"], note="Out of scope.")
    second = open_(artist, work, "rejection", statement="New evidence.")
    assert second.status == "open" and Dispute.objects.count() == 2


def test_the_unique_index_has_the_last_word_when_the_check_races(
    program, artist, staff, monkeypatch
):
    """Two opens that both passed the check: the partial unique index refuses the second, and
    its IntegrityError is the same 409 `already_disputed`, with nothing written."""
    work = reject(program, artist, staff["reviewer1"])
    open_(artist, work, "rejection")
    monkeypatch.setattr(disputes, "_check_not_disputed", lambda subject: None)
    with pytest.raises(AlreadyDisputed):
        open_(artist, work, "rejection")
    assert Dispute.objects.count() == 1
    assert AuditEvent.objects.filter(action="dispute.open").count() == 1


# --- the window -------------------------------------------------------------------------------


def test_the_window_runs_from_the_review_to_the_last_microsecond(program, artist, staff):
    with clock.frozen(T0):
        work = reject(program, artist, staff["reviewer1"], day=T0.date())
    closes = T0 + dt.timedelta(days=30)  # the default dispute_window_days
    assert disputes.window_closes_at(work, program) == closes
    with clock.frozen(closes + dt.timedelta(microseconds=1)):
        with pytest.raises(DisputeWindowClosed) as caught:
            open_(artist, work, "rejection")
        assert caught.value.status == 409 and caught.value.code == "dispute_window_closed"
        assert "2026-04-01 10:00 UTC" in caught.value.message
        assert disputes.open_options(artist, work).refused.code == "dispute_window_closed"
    with clock.frozen(closes):
        assert disputes.open_options(artist, work).refused is None
        assert open_(artist, work, "rejection").status == "open"


def test_the_window_is_the_programs_setting(admin, program, artist, staff):
    Program.objects.filter(pk=program.pk).update(dispute_window_days=1)
    program.refresh_from_db()
    with clock.frozen(T0):
        work = accept(log_feedback(program, artist, day=T0.date()), staff["reviewer1"])
    with clock.frozen(T0 + dt.timedelta(days=1, seconds=1)), pytest.raises(DisputeWindowClosed):
        open_(artist, work, "valuation")
    with clock.frozen(T0 + dt.timedelta(hours=23)):
        assert open_(artist, work, "valuation").claim == "valuation"


def test_a_payouts_window_runs_from_its_approval_when_it_needed_one(admin, program, artist, staff):
    program = services.update_program(actor=admin, program=program, approval_threshold_minor=100)
    with clock.frozen(T0):
        payout = services.record_payout(
            actor=staff["treasurer1"], artist=artist, program=program, amount_minor=500,
            kind="grant", paid_on=T0.date(),
        )  # fmt: skip
    approved_at = T0 + dt.timedelta(days=20)
    with clock.frozen(approved_at):
        services.approve_payout(payout=payout, actor=staff["treasurer2"])
    payout.refresh_from_db()
    assert disputes.window_closes_at(payout, program) == approved_at + dt.timedelta(days=30)
    with clock.frozen(T0 + dt.timedelta(days=45)):  # 45 days after proposal, 25 after approval
        assert open_(artist, payout, "not_received").status == "open"


def test_a_payouts_window_runs_from_its_recording_not_its_paid_on(program, artist, staff):
    with clock.frozen(T0):
        payout = services.record_payout(
            actor=staff["treasurer1"], artist=artist, program=program, amount_minor=500,
            kind="grant", paid_on=T0.date() - dt.timedelta(days=60),
        )  # fmt: skip
    with clock.frozen(T0 + dt.timedelta(days=30)):
        assert open_(artist, payout, "not_received").status == "open"
    with clock.frozen(T0 + dt.timedelta(days=31)):
        services.withdraw_dispute(dispute=Dispute.objects.get(), actor=artist)
        with pytest.raises(DisputeWindowClosed):
            open_(artist, payout, "not_received")


# --- who decides ------------------------------------------------------------------------------


def test_deciding_needs_the_role_and_never_the_disputed_decider_nor_the_artist(
    admin, program, artist, staff
):
    work = reject(program, artist, staff["reviewer1"])
    dispute = open_(artist, work, "rejection")
    refusals = {
        "reviewer1": SeparationOfDuties,  # rejected it
        "treasurer1": NotAllowed,
        "auditor": NotAllowed,
        "artist": NotAllowed,
    }
    for who, error in refusals.items():
        person = artist if who == "artist" else staff[who]
        for decide in (services.uphold_dispute, services.dismiss_dispute):
            with pytest.raises(error) as caught:
                decide(dispute=dispute, actor=person, note="No.")
            assert type(caught.value) is error, who
    # The artist holding the reviewer role too still may not decide its own dispute.
    services.grant_role(actor=admin, program=program, user=artist, role="reviewer")
    with pytest.raises(SeparationOfDuties, match="their own work or pay"):
        services.dismiss_dispute(dispute=dispute, actor=artist, note="Mine.")
    dispute.refresh_from_db()
    assert dispute.status == "open"
    assert services.dismiss_dispute(dispute=dispute, actor=staff["reviewer2"], note="No.")


def test_payout_disputes_are_for_treasurers_other_than_who_paid_or_approved(
    admin, program, artist, staff
):
    program = services.update_program(actor=admin, program=program, approval_threshold_minor=100)
    third = UserFactory(username="treasurer3")
    services.grant_role(actor=admin, program=program, user=third, role="treasurer")
    payout = services.record_payout(
        actor=staff["treasurer1"], artist=artist, program=program, amount_minor=500, kind="grant"
    )
    services.approve_payout(payout=payout, actor=staff["treasurer2"])
    dispute = open_(artist, payout, "not_received")
    assert inbox(third) == ["dispute_opened"]
    assert inbox(staff["treasurer1"]) == inbox(staff["treasurer2"]) == []
    for who in ("treasurer1", "treasurer2"):  # proposed it; approved it
        with pytest.raises(SeparationOfDuties, match="their own decision"):
            services.uphold_dispute(dispute=dispute, actor=staff[who], note="x")
    with pytest.raises(NotAllowed, match="Only a treasurer"):
        services.uphold_dispute(dispute=dispute, actor=staff["reviewer2"], note="x")
    assert services.uphold_dispute(dispute=dispute, actor=third, note="Bank says no.")


def test_a_decision_needs_a_note(program, artist, staff):
    dispute = open_(artist, reject(program, artist, staff["reviewer1"]), "rejection")
    for decide in (services.uphold_dispute, services.dismiss_dispute):
        with pytest.raises(ValidationFailed) as caught:
            decide(dispute=dispute, actor=staff["reviewer2"], note=" \u200b ")
        assert caught.value.field == "note"
    dispute.refresh_from_db()
    assert dispute.status == "open"
    assert Contribution.objects.get().status == "rejected"


# --- outcomes ---------------------------------------------------------------------------------


def test_an_upheld_rejection_accepts_and_values_the_work(program, artist, staff):
    work = reject(program, artist, staff["reviewer1"], hours="2.00")
    dispute = open_(artist, work, "rejection")
    before = owed(program, artist)
    dispute = services.uphold_dispute(
        dispute=dispute, actor=staff["reviewer2"], note="In scope after all.", hours=Decimal("3")
    )
    work.refresh_from_db()
    assert (work.status, work.hours, work.value_minor) == ("accepted", Decimal("3.00"), 3 * HOUR)
    assert work.reviewed_by == staff["reviewer2"] and work.review_note == "In scope after all."
    assert owed(program, artist) == before + 3 * HOUR == valued(program, artist)
    assert dispute.status == "upheld" and dispute.decided_by == staff["reviewer2"]
    assert dispute.decision_note == "In scope after all."
    assert dispute.outcome == "accepted, valued $135.00"
    entry = Entry.objects.get(contribution=work)
    assert (entry.kind, entry.dispute_id, entry.adjusts_id) == ("acceptance", None, None)
    accepted = AuditEvent.objects.get(action="contribution.accept")
    assert accepted.data["dispute"] == dispute.pk and accepted.actor == staff["reviewer2"]
    assert AuditEvent.objects.filter(action="dispute.uphold", object_id=str(dispute.pk)).exists()
    assert inbox(artist) == ["dispute_decided"]
    assert "was upheld: accepted, valued $135.00" in decided_message(artist)
    lines = queries.statement(artist=artist, program=program).lines
    assert [(line.kind, line.amount_minor) for line in lines] == [("acceptance", 3 * HOUR)]
    assert verify_program(program).ok
    # Accepted through the dispute, it is reviewed work as any other: reversible.
    services.reverse_contribution(contribution=work, actor=staff["reviewer1"], reason="x")
    assert owed(program, artist) == 0 and verify_program(program).ok


def test_rejected_work_is_accepted_only_through_an_upheld_dispute(program, artist, staff):
    work = reject(program, artist, staff["reviewer1"])
    with pytest.raises(InvalidTransition):
        accept(work, staff["reviewer2"])
    assert not work.can_move_to("accepted")
    assert work.can_move_to("accepted", through_dispute=True)
    submitted = log_feedback(program, artist)
    assert not submitted.can_move_to("accepted", through_dispute=True)


def test_an_upheld_valuation_posts_an_adjustment_linked_to_the_acceptance(program, artist, staff):
    work = accept(log_feedback(program, artist, hours="2.00"), staff["reviewer1"])
    acceptance = Entry.objects.get(contribution=work, kind="acceptance")
    dispute = open_(artist, work, "valuation", statement="It took three hours.")
    reviewer = staff["reviewer2"]
    with pytest.raises(ValidationFailed) as caught:
        services.uphold_dispute(dispute=dispute, actor=reviewer, note="ok")
    assert caught.value.field == "hours"
    for hours in ("2.00", "1.50"):  # not worth more than now
        with pytest.raises(ValidationFailed, match="higher than its current value") as caught:
            services.uphold_dispute(
                dispute=dispute, actor=reviewer, note="ok", hours=Decimal(hours)
            )
        assert caught.value.field == "hours"
    with pytest.raises(ValidationFailed) as caught:
        services.uphold_dispute(dispute=dispute, actor=reviewer, note="ok", severity="high")
    assert caught.value.field == "severity"
    assert not Entry.objects.filter(kind="adjustment").exists()

    dispute = services.uphold_dispute(
        dispute=dispute, actor=reviewer, note="Three hours.", hours=Decimal("3.00")
    )
    adjustment = Entry.objects.get(kind="adjustment")
    assert (adjustment.adjusts_id, adjustment.dispute_id) == (acceptance.pk, dispute.pk)
    assert adjustment.contribution_id == work.pk and adjustment.created_by == reviewer
    legs = dict(adjustment.postings.values_list("account__kind", "amount_minor"))
    assert legs == {"labor": HOUR, "payable": -HOUR}
    assert acceptance.adjustments.get() == adjustment and dispute.entry == adjustment
    work.refresh_from_db()
    assert (work.hours, work.value_minor, work.estimate_minor) == (
        Decimal("3.00"),
        3 * HOUR,
        3 * HOUR,
    )
    assert work.reviewed_by == staff["reviewer1"]  # the review stands; its value moved
    assert valued(program, artist) == owed(program, artist) == 3 * HOUR
    assert dispute.outcome == "value adjusted by +$45.00"
    event = AuditEvent.objects.get(action="contribution.adjust")
    assert event.data["difference_minor"] == HOUR and event.data["dispute"] == dispute.pk
    lines = queries.statement(artist=artist, program=program).lines
    assert [(line.kind, line.amount_minor, line.balance_minor) for line in lines] == [
        ("acceptance", 2 * HOUR, 2 * HOUR),
        ("adjustment", HOUR, 3 * HOUR),
    ]
    assert verify_program(program).ok


def test_reversing_adjusted_work_returns_the_books_to_zero(program, artist, staff):
    work = accept(log_feedback(program, artist, hours="2.00"), staff["reviewer1"])
    for hours in ("3.00", "4.25"):  # two disputes upheld one after the other
        dispute = open_(artist, work, "valuation")
        services.uphold_dispute(
            dispute=dispute, actor=staff["reviewer2"], note="More.", hours=Decimal(hours)
        )
    work.refresh_from_db()
    assert work.value_minor == 19125 == owed(program, artist)  # 4.25 h × 45.00
    services.reverse_contribution(contribution=work, actor=staff["reviewer1"], reason="Fraud")
    reversal = Entry.objects.get(kind="reversal")
    assert reversal.reverses == Entry.objects.get(kind="acceptance")
    legs = dict(reversal.postings.values_list("account__kind", "amount_minor"))
    assert legs == {"labor": -19125, "payable": 19125}
    assert owed(program, artist) == 0 == valued(program, artist)
    assert set(AccountBalance.objects.values_list("balance_minor", flat=True)) == {0}
    lines = queries.statement(artist=artist, program=program).lines
    assert [line.kind for line in lines] == ["acceptance", "adjustment", "adjustment", "reversal"]
    assert lines[-1].amount_minor == -19125 and lines[-1].balance_minor == 0
    assert verify_program(program).ok


def test_an_upheld_valuation_of_a_bug_report_takes_a_severity(program, artist, staff):
    work = accept(log_bug(program, artist, "medium"), staff["reviewer1"])
    dispute = open_(artist, work, "valuation")
    with pytest.raises(ValidationFailed) as caught:
        services.uphold_dispute(dispute=dispute, actor=staff["reviewer2"], note="ok")
    assert caught.value.field == "severity"
    with pytest.raises(ValidationFailed, match="higher"):
        services.uphold_dispute(
            dispute=dispute, actor=staff["reviewer2"], note="ok", severity="low"
        )
    with pytest.raises(ValidationFailed) as caught:
        services.uphold_dispute(
            dispute=dispute, actor=staff["reviewer2"], note="ok", hours=Decimal(1)
        )
    assert caught.value.field == "hours"
    services.uphold_dispute(dispute=dispute, actor=staff["reviewer2"], note="ok", severity="high")
    work.refresh_from_db()
    assert (work.severity, work.value_minor) == ("high", 20000)
    assert owed(program, artist) == 20000
    assert (
        Entry.objects.get(kind="adjustment").postings.get(account__kind="payable").amount_minor
        == -15000
    )
    assert verify_program(program).ok


def test_revaluing_work_accepted_at_zero_posts_its_first_value_as_its_acceptance(
    admin, artist, staff
):
    program = make_program(admin, low=0)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    for role in ("reviewer1", "reviewer2"):
        services.grant_role(actor=admin, program=program, user=staff[role], role="reviewer")
    work = accept(log_bug(program, artist, "low"), staff["reviewer1"])
    assert work.value_minor == 0 and not Entry.objects.filter(program=program).exists()
    dispute = open_(artist, work, "valuation")
    services.uphold_dispute(dispute=dispute, actor=staff["reviewer2"], note="ok", severity="high")
    entry = Entry.objects.get(program=program)
    assert entry.kind == "acceptance" and entry.contribution_id == work.pk
    assert owed(program, artist) == 20000 and verify_program(program).ok
    dispute.refresh_from_db()
    assert queries.resulting_entry(dispute).entry == entry
    services.reverse_contribution(contribution=work, actor=staff["reviewer1"], reason="x")
    assert owed(program, artist) == 0 and verify_program(program).ok


def test_an_upheld_non_receipt_voids_the_payout(program, artist, staff):
    accept(log_feedback(program, artist, hours="2.00"), staff["reviewer1"])
    payout = services.record_payout(
        actor=staff["treasurer1"], artist=artist, program=program, amount_minor=5000,
        kind="settlement",
    )  # fmt: skip
    assert owed(program, artist) == 2 * HOUR - 5000
    dispute = open_(artist, payout, "not_received", evidence_url="http://bank.example/stmt")
    with pytest.raises(ValidationFailed) as caught:
        services.uphold_dispute(
            dispute=dispute, actor=staff["treasurer2"], note="ok", hours=Decimal(1)
        )
    assert caught.value.field == "hours"
    dispute = services.uphold_dispute(
        dispute=dispute, actor=staff["treasurer2"], note="The bank never sent it."
    )
    payout.refresh_from_db()
    assert payout.status == "void" and payout.voided_by == staff["treasurer2"]
    assert payout.void_reason == "The bank never sent it."
    assert owed(program, artist) == 2 * HOUR
    assert Membership.objects.get(artist=artist, program=program).settlements_minor == 0
    void = AuditEvent.objects.get(action="payout.void")
    assert void.data["dispute"] == dispute.pk
    assert dispute.outcome == f"payout #{payout.pk} of $50.00 voided"
    result = queries.resulting_entry(dispute)
    assert result.entry.kind == "void" and result.amount_minor == 5000
    lines = queries.statement(artist=artist, program=program).lines
    assert [(line.kind, line.amount_minor) for line in lines] == [
        ("acceptance", 2 * HOUR),
        ("payout", -5000),
        ("void", 5000),
    ]
    assert verify_program(program).ok
    assert inbox(artist) == ["dispute_decided"]


def test_a_dismissal_changes_nothing_but_the_dispute(program, artist, staff):
    work = accept(log_feedback(program, artist), staff["reviewer1"])
    dispute = open_(artist, work, "valuation")
    before = (owed(program, artist), Entry.objects.count())
    dispute = services.dismiss_dispute(
        dispute=dispute, actor=staff["reviewer2"], note="Two hours is what was logged."
    )
    assert (dispute.status, dispute.outcome) == ("dismissed", "")
    assert dispute.decision_note == "Two hours is what was logged."
    assert (owed(program, artist), Entry.objects.count()) == before
    assert inbox(artist) == ["dispute_decided"]
    assert "was dismissed" in decided_message(artist)
    assert AuditEvent.objects.filter(action="dispute.dismiss").count() == 1


def test_the_artist_withdraws_its_dispute(program, artist, staff):
    dispute = open_(artist, reject(program, artist, staff["reviewer1"]), "rejection")
    for person in (staff["reviewer2"], staff["auditor"]):
        with pytest.raises(NotAllowed, match="Only the artist who opened"):
            services.withdraw_dispute(dispute=dispute, actor=person)
    dispute = services.withdraw_dispute(dispute=dispute, actor=artist)
    assert (dispute.status, dispute.decided_by) == ("withdrawn", artist)
    assert dispute.decided_at is not None
    assert AuditEvent.objects.filter(action="dispute.withdraw").count() == 1
    assert Contribution.objects.get().status == "rejected"


@pytest.mark.parametrize("first", ["uphold", "dismiss", "withdraw"])
def test_nothing_moves_after_open(program, artist, staff, first):
    dispute = open_(artist, reject(program, artist, staff["reviewer1"]), "rejection")
    reviewer = staff["reviewer2"]
    steps = {
        "uphold": lambda: services.uphold_dispute(dispute=dispute, actor=reviewer, note="y"),
        "dismiss": lambda: services.dismiss_dispute(dispute=dispute, actor=reviewer, note="n"),
        "withdraw": lambda: services.withdraw_dispute(dispute=dispute, actor=artist),
    }
    steps[first]()
    for step in steps.values():
        with pytest.raises(InvalidTransition):
            step()
    assert Dispute.objects.get().status == {"uphold": "upheld", "dismiss": "dismissed"}.get(
        first, "withdrawn"
    )


def test_upholding_after_the_subject_moved_on_is_an_invalid_transition(program, artist, staff):
    work = accept(log_feedback(program, artist), staff["reviewer1"])
    dispute = open_(artist, work, "valuation")
    services.reverse_contribution(contribution=work, actor=staff["reviewer1"], reason="x")
    with pytest.raises(InvalidTransition):
        services.uphold_dispute(
            dispute=dispute, actor=staff["reviewer2"], note="ok", hours=Decimal(5)
        )
    payout = services.record_payout(
        actor=staff["treasurer1"], artist=artist, program=program, amount_minor=100, kind="grant"
    )
    dispute = open_(artist, payout, "not_received")
    services.void_payout(payout=payout, actor=staff["treasurer1"], reason="Error")
    with pytest.raises(InvalidTransition):
        services.uphold_dispute(dispute=dispute, actor=staff["treasurer2"], note="ok")
    assert Dispute.objects.filter(status="open").count() == 2
    assert verify_program(program).ok


# --- the books: verify, the report ------------------------------------------------------------


def _adjusted(program, artist, staff):
    work = accept(log_feedback(program, artist, hours="2.00"), staff["reviewer1"])
    dispute = open_(artist, work, "valuation")
    services.uphold_dispute(dispute=dispute, actor=staff["reviewer2"], note="x", hours=Decimal(3))
    return work, dispute


def test_verify_finds_a_value_that_differs_from_its_entries(program, artist, staff):
    work, _ = _adjusted(program, artist, staff)
    assert verify_program(program).ok
    Contribution.objects.filter(pk=work.pk).update(value_minor=2 * HOUR)
    Membership.objects.filter(artist=artist).update(valued_minor=2 * HOUR)
    problems = verify_program(program).problems
    assert any(p.startswith(f"contribution {work.pk} (accepted, value 9000)") for p in problems)


def test_verify_finds_membership_totals_that_missed_an_adjustment(program, artist, staff):
    _adjusted(program, artist, staff)
    Membership.objects.filter(artist=artist).update(valued_minor=2 * HOUR)
    problems = verify_program(program).problems
    assert any("totals differ" in p for p in problems), problems


@pytest.mark.postgres
def test_verify_finds_an_adjustments_links_changed_behind_the_apps_back(program, artist, staff):
    """The hash covers what an adjustment adjusts and its dispute: relinking one is found."""
    _work, dispute = _adjusted(program, artist, staff)
    other = accept(log_feedback(program, artist), staff["reviewer1"])
    other_acceptance = Entry.objects.get(contribution=other, kind="acceptance")
    with pgtrigger.ignore(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_entry SET adjusts_id = %s WHERE dispute_id = %s",
            [other_acceptance.pk, dispute.pk],
        )
    problems = verify_program(program).problems
    assert any("hash does not match" in p for p in problems), problems
    assert any("not the acceptance of its contribution" in p for p in problems), problems


def test_a_hash_covers_an_adjustments_links(program, artist, staff):
    from ledger.hashing import entry_hash

    _adjusted(program, artist, staff)
    entry = Entry.objects.select_related("adjusts").get(kind="adjustment")
    legs = [(p.account.code, p.amount_minor, p.currency) for p in entry.postings.all()]
    assert entry_hash(entry, legs, None, entry.adjusts.hash) == entry.hash
    assert entry_hash(entry, legs, None, "0" * 64) != entry.hash
    entry.dispute_id += 1
    assert entry_hash(entry, legs, None, entry.adjusts.hash) != entry.hash


def test_the_report_counts_disputes_by_status(program, artist, artist2, staff):
    reviewer = staff["reviewer2"]
    for _ in range(2):
        open_(artist, reject(program, artist, staff["reviewer1"]), "rejection")
    upheld = open_(artist2, reject(program, artist2, staff["reviewer1"]), "rejection")
    services.uphold_dispute(dispute=upheld, actor=reviewer, note="y")
    dismissed = open_(artist2, reject(program, artist2, staff["reviewer1"]), "rejection")
    services.dismiss_dispute(dispute=dismissed, actor=reviewer, note="n")
    withdrawn = open_(artist2, reject(program, artist2, staff["reviewer1"]), "rejection")
    services.withdraw_dispute(dispute=withdrawn, actor=artist2)
    report = queries.program_report(program)
    assert (report.disputes_open, report.disputes_upheld, report.disputes_dismissed) == (2, 1, 1)


def test_the_adjusted_value_is_the_works_value_in_the_median_days_to_payment(
    program, artist, staff
):
    with clock.frozen(T0):
        work = accept(
            log_feedback(program, artist, hours="2.00", day=T0.date()), staff["reviewer1"]
        )
        services.record_payout(
            actor=staff["treasurer1"], artist=artist, program=program, amount_minor=2 * HOUR,
            kind="settlement", paid_on=T0.date(),
        )  # fmt: skip
    assert queries.program_report(program).median_days_to_payment == Decimal("0.0")
    with clock.frozen(T0 + dt.timedelta(days=3)):
        dispute = open_(artist, work, "valuation")
        services.uphold_dispute(
            dispute=dispute, actor=staff["reviewer2"], note="x", hours=Decimal(3)
        )
    kept = queries.program_report(program)
    assert kept.median_days_to_payment is None  # 90.00 of 135.00 paid: not settled
    assert kept.feedback_hours == Decimal("3.00")
    assert queries.median_days_to_payment(program) is None
    with clock.frozen(T0 + dt.timedelta(days=10)):
        services.record_payout(
            actor=staff["treasurer1"], artist=artist, program=program, amount_minor=HOUR,
            kind="settlement", paid_on=(T0 + dt.timedelta(days=10)).date(),
        )  # fmt: skip
    assert queries.program_report(program).median_days_to_payment == Decimal("10.0")
    assert queries.median_days_to_payment(program) == Decimal("10.0")


def test_the_monthly_series_counts_an_adjustment_as_valued_work(program, artist, staff):
    _adjusted(program, artist, staff)
    ((_month, valued_minor, paid_minor),) = queries.monthly_series(program)
    assert (valued_minor, paid_minor) == (3 * HOUR, 0)


# --- concurrency ------------------------------------------------------------------------------


def _run_threads(count, target):
    barrier = threading.Barrier(count)
    results = []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results.append(target(i))
        except Exception as error:  # collected and asserted by the test
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_opens_on_one_subject_make_one_dispute(admin, program, artist):
    work = reject(program, artist, admin)
    results = _run_threads(
        6, lambda i: open_(artist, Contribution.objects.get(pk=work.pk), "rejection")
    )
    opened = [r for r in results if isinstance(r, Dispute)]
    refused = [r for r in results if isinstance(r, AlreadyDisputed)]
    assert len(opened) == 1 and len(refused) == 5, results
    assert Dispute.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_opens_without_the_lock_are_stopped_by_the_index(
    admin, program, artist, monkeypatch
):
    """Even with the row lock and the check out of the way, the partial unique index lets one
    open dispute through and the others get `already_disputed`, never a 500."""
    work = reject(program, artist, admin)
    monkeypatch.setattr(disputes, "_check_not_disputed", lambda subject: None)
    monkeypatch.setattr(disputes, "_lock_subject", lambda subject: subject)
    results = _run_threads(
        6,
        lambda i: open_(
            artist, Contribution.objects.select_related("program").get(pk=work.pk), "rejection"
        ),
    )
    opened = [r for r in results if isinstance(r, Dispute)]
    refused = [r for r in results if isinstance(r, AlreadyDisputed)]
    assert len(opened) == 1 and len(refused) == 5, results
    assert Dispute.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_upholds_decide_once(admin, program, artist):
    reviewers = []
    for i in range(4):
        person = UserFactory(username=f"rev{i}")
        services.grant_role(actor=admin, program=program, user=person, role="reviewer")
        reviewers.append(person)
    work = services.accept_contribution(contribution=log_feedback(program, artist), actor=admin)
    dispute = open_(artist, work, "valuation")
    results = _run_threads(
        4,
        lambda i: services.uphold_dispute(
            dispute=Dispute.objects.get(pk=dispute.pk), actor=reviewers[i], note="y",
            hours=Decimal(3 + i),
        ),
    )  # fmt: skip
    upheld = [r for r in results if isinstance(r, Dispute)]
    assert len(upheld) == 1, results
    assert all(isinstance(r, Dispute | InvalidTransition) for r in results), results
    assert Entry.objects.filter(kind="adjustment").count() == 1
    assert verify_program(program).ok
    assert Payout.objects.count() == 0
