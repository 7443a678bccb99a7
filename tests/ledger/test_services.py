"""Every service rule and error, against the real database."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger import clock, queries, services
from ledger.errors import (
    InsufficientBalance,
    InvalidTransition,
    NotAllowed,
    NotAMember,
    SeparationOfDuties,
    ValidationFailed,
)
from ledger.models import (
    AccountBalance,
    AuditEvent,
    Contribution,
    Entry,
    Membership,
    Payout,
    Posting,
    RateCard,
)
from ledger.verify import verify_program
from tests.conftest import CARD_FROM, TODAY, accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def owed(program, artist) -> int:
    return queries.payable_balance_minor(program, artist)


# --- programs, rate cards, members -----------------------------------------------------------


def test_create_program_opens_accounts_and_audits(admin):
    program = services.create_program(actor=admin, name="P", currency="JPY")
    assert sorted(program.accounts.values_list("kind", flat=True)) == ["cash", "labor"]
    assert AccountBalance.objects.filter(program=program).count() == 2
    assert AuditEvent.objects.filter(action="program.create", actor=admin).exists()


def test_create_program_refuses_bad_currency_and_artists(admin, artist):
    with pytest.raises(ValidationFailed) as error:
        services.create_program(actor=admin, name="P", currency="XYZ")
    assert error.value.field == "currency"
    with pytest.raises(NotAllowed):
        services.create_program(actor=artist, name="P", currency="USD")


def test_rate_card_same_day_is_refused_naming_effective_from(admin):
    program = make_program(admin)
    with pytest.raises(ValidationFailed) as error:
        services.add_rate_card(
            actor=admin,
            program=program,
            effective_from=CARD_FROM,
            hourly_rate_minor=1,
            bounties={"low": 0, "medium": 0, "high": 0, "critical": 0},
        )
    assert error.value.field == "effective_from"
    assert RateCard.objects.filter(program=program).count() == 1


def test_rate_card_negative_amount_names_the_bounty(admin):
    program = make_program(admin)
    with pytest.raises(ValidationFailed) as error:
        services.add_rate_card(
            actor=admin,
            program=program,
            effective_from=TODAY,
            hourly_rate_minor=100,
            bounties={"low": 0, "medium": 0, "high": -1, "critical": 0},
        )
    assert error.value.field == "bug_bounties.high"


def test_enroll_twice_names_artist(admin, artist, program):
    with pytest.raises(ValidationFailed) as error:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    assert error.value.field == "artist"


# --- contributions ---------------------------------------------------------------------------


def test_submit_feedback_is_pending_with_estimate(program, artist):
    contribution = log_feedback(program, artist, "2.50")
    assert contribution.status == "submitted"
    assert contribution.value_minor is None
    assert contribution.estimate_minor == 11250  # 2.5 h x 45.00


def test_submit_requires_membership_naming_program(admin, artist):
    other = make_program(admin, currency="EUR")
    with pytest.raises(NotAMember) as error:
        log_feedback(other, artist)
    assert error.value.field == "program"
    assert not Contribution.objects.exists()


def test_artist_cannot_log_for_someone_else(program, artist, artist2):
    with pytest.raises(ValidationFailed) as error:
        services.submit_contribution(
            actor=artist, program=program, kind="feedback", title="t",
            occurred_on=TODAY, hours=Decimal(1), artist=artist2,
        )  # fmt: skip
    assert error.value.field == "artist"


def test_admin_must_name_a_member_artist(program, admin, artist):
    with pytest.raises(ValidationFailed) as error:
        services.submit_contribution(
            actor=admin, program=program, kind="bug_report", title="x",
            occurred_on=TODAY, severity="low",
        )  # fmt: skip
    assert error.value.field == "artist"
    outsider = UserFactory(username="outsider")
    with pytest.raises(NotAMember) as error:
        services.submit_contribution(
            actor=admin, program=program, kind="bug_report", title="x",
            occurred_on=TODAY, severity="low", artist=outsider,
        )  # fmt: skip
    assert error.value.field == "artist"
    ok = services.submit_contribution(
        actor=admin, program=program, kind="bug_report", title="x",
        occurred_on=TODAY, severity="low", artist=artist,
    )  # fmt: skip
    assert ok.artist == artist and ok.submitted_by == admin


@pytest.mark.parametrize(
    ("kind", "hours", "severity", "field"),
    [
        ("feedback", None, None, "hours"),
        ("feedback", Decimal("0"), None, "hours"),
        ("feedback", Decimal("24.01"), None, "hours"),
        ("feedback", Decimal("1"), "low", "severity"),
        ("bug_report", None, None, "severity"),
        ("bug_report", None, "urgent", "severity"),
        ("bug_report", Decimal("1"), "low", "hours"),
        ("essay", None, None, "kind"),
    ],
)
def test_submit_kind_field_rules(program, artist, kind, hours, severity, field):
    with pytest.raises(ValidationFailed) as error:
        services.submit_contribution(
            actor=artist, program=program, kind=kind, title="t", occurred_on=TODAY,
            hours=hours, severity=severity,
        )  # fmt: skip
    assert error.value.field == field
    assert not Contribution.objects.exists()


def test_occurred_on_future_and_before_any_card(program, artist):
    with pytest.raises(ValidationFailed) as error:
        log_feedback(program, artist, day=TODAY + dt.timedelta(days=2))
    assert error.value.field == "occurred_on"
    with pytest.raises(ValidationFailed) as error:
        log_feedback(program, artist, day=CARD_FROM - dt.timedelta(days=1))
    assert error.value.field == "occurred_on"


def test_today_anywhere_on_earth_is_not_the_future(program, artist):
    # At 23:00 UTC it is already tomorrow in UTC+14 (Kiribati): that date is accepted.
    late = dt.datetime.combine(TODAY, dt.time(23), tzinfo=dt.UTC)
    with clock.frozen(late):
        contribution = log_feedback(program, artist, day=TODAY + dt.timedelta(days=1))
    assert contribution.occurred_on == TODAY + dt.timedelta(days=1)


def test_accept_values_with_card_in_effect_on_occurred_on(admin, artist, program):
    services.add_rate_card(
        actor=admin, program=program, effective_from=TODAY - dt.timedelta(days=10),
        hourly_rate_minor=6000,
        bounties={"low": 1, "medium": 2, "high": 3, "critical": 4},
    )  # fmt: skip
    old = log_feedback(program, artist, "1.00", day=TODAY - dt.timedelta(days=20))
    new = log_feedback(program, artist, "1.00", day=TODAY - dt.timedelta(days=5))
    old = services.accept_contribution(contribution=old, actor=admin)
    new = services.accept_contribution(contribution=new, actor=admin)
    assert (old.value_minor, new.value_minor) == (4500, 6000)
    assert new.rate_card.hourly_rate_minor == 6000
    assert owed(program, artist) == 10500


def test_new_card_updates_pending_estimate(admin, artist, program):
    pending = log_feedback(program, artist, "1.00", day=TODAY)
    assert pending.estimate_minor == 4500
    services.add_rate_card(
        actor=admin, program=program, effective_from=TODAY - dt.timedelta(days=1),
        hourly_rate_minor=9000, bounties={"low": 1, "medium": 2, "high": 3, "critical": 4},
    )  # fmt: skip
    pending.refresh_from_db()
    assert pending.estimate_minor == 9000
    row = queries.balances().get(program=program, artist=artist)
    assert row.pending_minor == 9000


def test_accept_posts_balanced_entry_dated_today(admin, artist, program):
    contribution = accepted_work(program, artist, admin, "1.25")
    entry = Entry.objects.get(contribution=contribution)
    assert entry.kind == "acceptance"
    assert entry.effective_date == clock.today()
    legs = sorted(entry.postings.values_list("account__kind", "amount_minor"))
    assert legs == [("labor", 5625), ("payable", -5625)]
    assert contribution.accepted_on == clock.today()
    assert AuditEvent.objects.filter(action="contribution.accept", object_id=contribution.pk)


def test_accept_with_adjusted_hours_and_severity(admin, artist, program):
    feedback = log_feedback(program, artist, "3.00")
    feedback = services.accept_contribution(
        contribution=feedback, actor=admin, hours=Decimal("1.50")
    )
    assert feedback.hours == Decimal("1.50") and feedback.value_minor == 6750
    bug = log_bug(program, artist, "critical")
    bug = services.accept_contribution(contribution=bug, actor=admin, severity="medium")
    assert bug.severity == "medium" and bug.value_minor == 5000
    with pytest.raises(ValidationFailed) as error:
        services.accept_contribution(
            contribution=log_bug(program, artist), actor=admin, hours=Decimal("1")
        )
    assert error.value.field == "hours"


def test_nobody_reviews_their_own_work(admin, program):
    services.enroll_artist(actor=admin, program=program, artist=admin)
    own = services.submit_contribution(
        actor=admin, program=program, kind="bug_report", title="mine",
        occurred_on=TODAY, severity="low", artist=admin,
    )  # fmt: skip
    for action in (services.accept_contribution,):
        with pytest.raises(SeparationOfDuties):
            action(contribution=own, actor=admin)
    with pytest.raises(SeparationOfDuties):
        services.reject_contribution(contribution=own, actor=admin, reason="no")
    own.refresh_from_db()
    assert own.status == "submitted"


def test_artist_cannot_review(artist, artist2, program):
    contribution = log_feedback(program, artist2)
    with pytest.raises(NotAllowed):
        services.accept_contribution(contribution=contribution, actor=artist)


def test_transitions(admin, artist, program):
    contribution = accepted_work(program, artist, admin)
    with pytest.raises(InvalidTransition):
        services.accept_contribution(contribution=contribution, actor=admin)
    with pytest.raises(InvalidTransition):
        services.reject_contribution(contribution=contribution, actor=admin, reason="x")
    with pytest.raises(InvalidTransition):
        services.withdraw_contribution(contribution=contribution, actor=artist)
    rejected = services.reject_contribution(
        contribution=log_feedback(program, artist), actor=admin, reason="dup"
    )
    with pytest.raises(InvalidTransition):
        services.reverse_contribution(contribution=rejected, actor=admin, reason="x")
    assert Entry.objects.count() == 1


def test_reason_required(admin, artist, program):
    contribution = log_feedback(program, artist)
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as error:
            services.reject_contribution(contribution=contribution, actor=admin, reason=blank)
        assert error.value.field == "reason"


def test_withdraw_only_by_its_artist(admin, artist, artist2, program):
    contribution = log_feedback(program, artist)
    for other in (artist2, admin):
        with pytest.raises(NotAllowed):
            services.withdraw_contribution(contribution=contribution, actor=other)
    done = services.withdraw_contribution(contribution=contribution, actor=artist)
    assert done.status == "withdrawn"


def test_reverse_posts_exact_mirror_once(admin, artist, program):
    contribution = accepted_work(program, artist, admin, "2.00")
    reversed_ = services.reverse_contribution(
        contribution=contribution, actor=admin, reason="duplicate"
    )
    assert reversed_.status == "reversed"
    original = Entry.objects.get(contribution=contribution, kind="acceptance")
    mirror = Entry.objects.get(contribution=contribution, kind="reversal")
    assert mirror.reverses == original
    assert sorted(mirror.postings.values_list("account_id", "amount_minor")) == sorted(
        (a, -m) for a, m in original.postings.values_list("account_id", "amount_minor")
    )
    assert owed(program, artist) == 0
    assert Membership.objects.get(program=program, artist=artist).valued_minor == 0
    with pytest.raises(InvalidTransition):
        services.reverse_contribution(contribution=contribution, actor=admin, reason="again")


# --- payouts ---------------------------------------------------------------------------------


def pay(program, artist, admin, minor, kind="settlement", **kwargs):
    return services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=minor, kind=kind, **kwargs
    )


def test_settlement_cannot_exceed_outstanding(admin, artist, program):
    accepted_work(program, artist, admin, "2.00")  # 90.00 owed
    with pytest.raises(InsufficientBalance):
        pay(program, artist, admin, 9001)
    assert not Payout.objects.exists()
    pay(program, artist, admin, 9000)
    assert owed(program, artist) == 0
    with pytest.raises(InsufficientBalance):
        pay(program, artist, admin, 1)


def test_grant_may_exceed_and_makes_balance_negative(admin, artist, program):
    pay(program, artist, admin, 50000, kind="grant")
    assert owed(program, artist) == -50000
    row = queries.balances().get(program=program, artist=artist)
    assert (row.grants_minor, row.settlements_minor, row.outstanding_minor) == (50000, 0, -50000)
    with pytest.raises(InsufficientBalance):
        pay(program, artist, admin, 1)


def test_payout_rules(admin, artist, program):
    outsider = UserFactory(username="outsider")
    with pytest.raises(NotAMember) as error:
        pay(program, outsider, admin, 100, kind="grant")
    assert error.value.field == "artist"
    with pytest.raises(ValidationFailed) as error:
        pay(program, artist, admin, 100, kind="grant", paid_on=TODAY + dt.timedelta(days=2))
    assert error.value.field == "paid_on"
    with pytest.raises(ValidationFailed) as error:
        pay(program, artist, admin, 0, kind="grant")
    assert error.value.field == "amount"
    with pytest.raises(ValidationFailed) as error:
        pay(program, artist, admin, 100, kind="bonus")
    assert error.value.field == "kind"
    with pytest.raises(NotAllowed):
        pay(program, artist, artist, 100, kind="grant")
    assert not Payout.objects.exists()
    payout = pay(program, artist, admin, 100, kind="grant")
    assert payout.paid_on == clock.today()


def test_void_mirrors_and_restores_balance(admin, artist, program):
    accepted_work(program, artist, admin, "2.00")
    payout = pay(program, artist, admin, 9000)
    voided = services.void_payout(payout=payout, actor=admin, reason="bounced")
    assert voided.status == "void"
    assert owed(program, artist) == 9000
    with pytest.raises(InvalidTransition):
        services.void_payout(payout=payout, actor=admin, reason="again")
    with pytest.raises(ValidationFailed):
        services.void_payout(payout=payout, actor=admin, reason="")
    assert Entry.objects.filter(payout=payout).count() == 2


def test_each_source_posts_at_most_once(admin, artist, program):
    """The unique (source, kind) constraint refuses a second acceptance entry."""
    from django.db import IntegrityError, transaction

    from ledger.services.journal import Line, entry_accounts, post_entry

    contribution = accepted_work(program, artist, admin)
    with pytest.raises(IntegrityError), transaction.atomic():
        post_entry(
            program=program, kind="acceptance",
            lines=[Line(entry_accounts(program, artist)["labor"], 1),
                   Line(entry_accounts(program, artist)["payable"], -1)],
            memo="again", effective_date=TODAY, actor=admin, contribution=contribution,
        )  # fmt: skip
    assert Entry.objects.filter(contribution=contribution).count() == 1


def test_post_entry_refuses_unbalanced_in_python(admin, program, artist):
    from ledger.services.journal import Line, entry_accounts, post_entry

    with pytest.raises(ValueError):
        post_entry(
            program=program, kind="acceptance",
            lines=[Line(entry_accounts(program, artist)["labor"], 2),
                   Line(entry_accounts(program, artist)["payable"], -1)],
            memo="bad", effective_date=TODAY, actor=admin,
        )  # fmt: skip
    assert not Posting.objects.exists()


def test_everything_audited_and_verifies(admin, artist, program):
    contribution = accepted_work(program, artist, admin)
    payout = pay(program, artist, admin, 100)
    services.void_payout(payout=payout, actor=admin, reason="typo")
    services.reverse_contribution(contribution=contribution, actor=admin, reason="dup")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    for action in ("contribution.submit", "contribution.accept", "payout.create",
                   "payout.void", "contribution.reverse"):  # fmt: skip
        assert action in actions
    result = verify_program(program)
    assert result.ok, result.problems
    assert result.entries_checked == 4


def test_jpy_program_values_in_whole_yen(admin, artist):
    program = make_program(admin, currency="JPY", hourly="3333")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    contribution = accepted_work(program, artist, admin, "1.50")
    assert contribution.value_minor == 5000  # 4999.5 → 5000 (half-even: 4999 is odd)


def test_a_closed_program_takes_no_new_work_but_still_reviews_and_pays(admin, artist, program):
    waiting = log_feedback(program, artist)
    services.update_program(actor=admin, program=program, status="closed")
    program.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        log_feedback(program, artist)
    assert refused.value.field == "program"
    services.accept_contribution(contribution=waiting, actor=admin)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="settlement"
    )
    assert program.contributions.count() == 1
