"""Deadlines: review due dates, "overdue" in its three renderings, what is overdue for payment
(against an independent first-in first-out in Python), the report's deadline figures, and
`apply_deadlines` (the system's acceptance, reminders, idempotency, a shifted clock, two runs
at once)."""

import datetime as dt
import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import clock, queries, services
from ledger.errors import ValidationFailed
from ledger.models import (
    AuditEvent,
    Contribution,
    ContributionStatus,
    Entry,
    LedgerHead,
    Notification,
    Payout,
    PayoutStatus,
)
from ledger.models.contributions import OVERDUE_SQL, is_overdue
from ledger.queries import fifo, report_cache
from ledger.verify import verify_program
from tests.conftest import TODAY, accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory
from tests.ledger.test_report_median import (
    ARTISTS,
    BASE,
    build_history,
    histories,
    random_service_call,
)

pytestmark = pytest.mark.django_db


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def on(day: dt.date):
    """The app's clock at noon (UTC) of `day`: how tests move time (`ledger.clock`)."""
    return clock.frozen(noon(day))


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["review_within_days", "pay_within_days", "dispute_window_days"])
@pytest.mark.parametrize("bad", [0, 366, -1, 10**9, True, False, "14", 14.0, None, [14]])
def test_each_deadline_is_a_whole_number_of_days_from_1_to_365(admin, program, field, bad):
    with pytest.raises(ValidationFailed) as caught:
        services.update_program(actor=admin, program=program, **{field: bad})
    assert caught.value.field == field
    program.refresh_from_db()
    assert (program.review_within_days, program.pay_within_days) == (14, 30)
    assert program.dispute_window_days == 30


@pytest.mark.parametrize("field", ["review_within_days", "pay_within_days", "dispute_window_days"])
def test_deadlines_take_both_bounds(admin, program, field):
    for days in (1, 365):
        program = services.update_program(actor=admin, program=program, **{field: days})
        program.refresh_from_db()
        assert getattr(program, field) == days


@pytest.mark.parametrize("bad", ["true", 1, 0, None])
def test_auto_accept_is_a_boolean(admin, program, bad):
    with pytest.raises(ValidationFailed) as caught:
        services.update_program(actor=admin, program=program, auto_accept_overdue=bad)
    assert caught.value.field == "auto_accept_overdue"


def test_a_deadline_change_is_audited_with_old_and_new(admin, program):
    services.update_program(
        actor=admin, program=program, pay_within_days=10, auto_accept_overdue=True
    )
    event = AuditEvent.objects.filter(action="program.update").latest("id")
    assert event.actor_id == admin.pk
    assert event.data["changes"] == {
        "pay_within_days": [30, 10],
        "auto_accept_overdue": [False, True],
    }
    assert "review_due_dates_moved" not in event.data


# --- review due dates ----------------------------------------------------------------------


def test_submission_is_due_its_utc_date_plus_the_deadline(admin, artist, program):
    services.update_program(actor=admin, program=program, review_within_days=3)
    program.refresh_from_db()
    # 23:30 in New York on the 1st is already the 2nd in UTC: the UTC date counts.
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with clock.frozen(late):
        work = log_feedback(program, artist, day=dt.date(2026, 3, 1))
    work.refresh_from_db()
    assert work.review_due_on == dt.date(2026, 3, 5)


def test_changing_the_review_deadline_moves_waiting_work_only(admin, artist, artist2, program):
    other = make_program(admin, currency="EUR")
    services.enroll_artist(actor=admin, program=other, artist=artist)
    with on(days_ago(10)):
        waiting = log_feedback(program, artist)
        reviewed = accepted_work(program, artist2, admin)
        elsewhere = log_feedback(other, artist)
    before = {c.pk: c.review_due_on for c in Contribution.objects.all()}
    assert before[waiting.pk] == days_ago(10) + dt.timedelta(days=14)

    services.update_program(actor=admin, program=program, review_within_days=5)
    after = {c.pk: c.review_due_on for c in Contribution.objects.all()}
    assert after[waiting.pk] == days_ago(5)  # submitted 10 days ago + 5
    assert after[reviewed.pk] == before[reviewed.pk]  # no longer waiting
    assert after[elsewhere.pk] == before[elsewhere.pk]  # another program
    event = AuditEvent.objects.filter(action="program.update").latest("id")
    assert event.data["changes"] == {"review_within_days": [14, 5]}
    assert event.data["review_due_dates_moved"] == 1
    # Work submitted after the change is due under the new deadline.
    fresh = log_feedback(program, artist)
    fresh.refresh_from_db()
    assert fresh.review_due_on == TODAY + dt.timedelta(days=5)


def test_moving_due_dates_costs_the_same_for_any_number_of_rows(
    admin, artist, program, django_assert_num_queries
):
    with on(days_ago(3)):
        log_bug(program, artist)
    with CaptureQueriesContext(connection) as one:
        services.update_program(actor=admin, program=program, review_within_days=2)
    with on(days_ago(3)):
        for _ in range(5):
            log_bug(program, artist)
    with django_assert_num_queries(len(one)):
        services.update_program(actor=admin, program=program, review_within_days=1)
    assert set(Contribution.objects.values_list("review_due_on", flat=True)) == {days_ago(2)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deadline_change_and_a_review_in_flight_both_finish():
    """A reviewer holds a contribution's row while the manager moves the due dates (which
    waits for that row); the review then posts its entry, which names the program the
    manager holds. Neither waits for the other in a circle: both commit."""
    admin = UserFactory(username="inflight-admin", is_superuser=True)
    artist = UserFactory(username="inflight-artist")
    program = make_program(admin)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    work = log_feedback(program, artist)
    log_bug(program, artist)
    locked, errors = threading.Event(), []

    def review():
        try:
            with transaction.atomic():
                services.contributions.lock_for_review(work)
                locked.set()
                time.sleep(0.5)  # the manager's change is waiting for this row by now
                services.accept_contribution(contribution=work, actor=admin)
        except Exception as error:  # asserted below
            errors.append(error)
        finally:
            connections.close_all()

    def change():
        try:
            locked.wait(timeout=10)
            services.update_program(actor=admin, program=program, review_within_days=3)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=review), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert Contribution.objects.get(pk=work.pk).status == "accepted"
    program.refresh_from_db()
    assert program.review_within_days == 3
    assert set(Contribution.objects.pending().values_list("review_due_on", flat=True)) == {
        TODAY + dt.timedelta(days=3)
    }


# --- overdue: at the boundary, and its three renderings agree ------------------------------


def _overdue_by_each_rendering(user, today):
    """The overdue work's ids as the Python rule, the QuerySet and the plain SQL see it."""
    everything = list(Contribution.objects.all())
    python = {c.pk for c in everything if is_overdue(c.status, c.review_due_on, today)}
    queryset = set(Contribution.objects.overdue(today).values_list("pk", flat=True))
    excluded = set(Contribution.objects.not_overdue(today).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id FROM ledger_contribution c WHERE {OVERDUE_SQL}",
            [connection.ops.adapt_datefield_value(today)],
        )
        sql = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT c.id FROM ledger_contribution c WHERE NOT {OVERDUE_SQL}",
            [connection.ops.adapt_datefield_value(today)],
        )
        sql_not = {row[0] for row in cursor.fetchall()}
    all_ids = {c.pk for c in everything}
    assert python == queryset == sql
    assert excluded == sql_not == all_ids - python
    return python


def test_overdue_starts_the_day_after_the_due_date(admin, artist, program):
    submitted_on = days_ago(30)
    with on(submitted_on):
        waiting = log_feedback(program, artist)
        done = accepted_work(program, artist, admin)
        withdrawn = services.withdraw_contribution(
            contribution=log_bug(program, artist), actor=artist
        )
    legacy = log_bug(program, artist)  # a row from before due dates: never overdue
    Contribution.objects.filter(pk=legacy.pk).update(review_due_on=None)
    due = submitted_on + dt.timedelta(days=14)
    for today, expected in (
        (due - dt.timedelta(days=1), set()),
        (due, set()),
        (due + dt.timedelta(days=1), {waiting.pk}),
        (due + dt.timedelta(days=100), {waiting.pk}),
    ):
        assert _overdue_by_each_rendering(admin, today) == expected, today
        with on(today):
            waiting.refresh_from_db()
            assert waiting.is_overdue == bool(expected)
            rows = queries.contribution_rows(admin, overdue=True)[0:100]
            assert {row["id"] for row in rows} == expected
            others = queries.contribution_rows(admin, overdue=False)[0:100]
            assert {row["id"] for row in others} == {
                waiting.pk,
                done.pk,
                withdrawn.pk,
                legacy.pk,
            } - expected


# --- overdue for payment: the FIFO against an independent one in Python -------------------


def oracle_unpaid(program) -> dict[int, list[tuple[dt.date, int]]]:
    """Per artist, (acceptance day, unpaid minor units) of each work item not fully paid:
    every paid payout's amount summed, spent on the accepted work oldest review first."""
    work: dict[int, list[tuple[dt.date, int]]] = {}
    for artist_id, accepted_on, value in (
        Contribution.objects.filter(program=program, status=ContributionStatus.ACCEPTED)
        .exclude(value_minor=0)
        .order_by("artist_id", "reviewed_at", "id")
        .values_list("artist_id", "accepted_on", "value_minor")
    ):
        work.setdefault(artist_id, []).append((accepted_on, value))
    paid: dict[int, int] = {}
    for artist_id, amount in Payout.objects.filter(
        program=program, status=PayoutStatus.PAID
    ).values_list("artist_id", "amount_minor"):
        paid[artist_id] = paid.get(artist_id, 0) + amount
    unpaid: dict[int, list[tuple[dt.date, int]]] = {}
    for artist_id, items in work.items():
        budget = paid.get(artist_id, 0)
        for day, value in items:
            spent = min(budget, value)
            budget -= spent
            if value > spent:
                unpaid.setdefault(artist_id, []).append((day, value - spent))
    return unpaid


def oracle_deadline(items, pay_within_days, today):
    overdue = sum(amount for day, amount in items if (today - day).days > pay_within_days)
    return overdue, min((day for day, _ in items), default=None)


def check_against_the_oracle(program, artist_ids, today, pay_within_days):
    expected = oracle_unpaid(program)
    figures = queries.pay_deadlines(
        [(program.pk, a, pay_within_days) for a in artist_ids], today=today
    )
    for artist_id in artist_ids:
        got = figures[(program.pk, artist_id)]
        want = oracle_deadline(expected.get(artist_id, []), pay_within_days, today)
        assert (got.overdue_minor, got.oldest_unpaid_on) == want, artist_id
    # What the report keeps per artist (here, inside a transaction, read afresh): the same.
    kept = report_cache.read_artist_work(program)
    assert {a: sorted(w.unpaid.items()) for a, w in kept.items() if w.unpaid} == {
        a: sorted(_by_day(items).items()) for a, items in expected.items()
    }
    program.pay_within_days = pay_within_days  # the report reads the program's setting
    with clock.frozen(noon(today)):
        report = queries.program_report(program)
    assert report.overdue_outstanding_minor == sum(f.overdue_minor for f in figures.values())


def _by_day(items):
    days: dict[dt.date, int] = {}
    for day, amount in items:
        days[day] = days.get(day, 0) + amount
    return days


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=histories,
    pay_within_days=st.sampled_from([1, 5, 20, 44, 45, 365]),
    today_offset=st.integers(0, 70),
)
def test_overdue_and_oldest_unpaid_match_a_python_fifo(
    admin, program, steps, pay_within_days, today_offset
):
    """Random histories (partial payments, grants before work, voids, reversals, zero-value
    work, ties in review order) on both databases."""
    artists = [UserFactory(username=f"due{i}") for i in range(ARTISTS)]
    with transaction.atomic():
        build_history(program, admin, artists, steps)
        today = BASE + dt.timedelta(days=today_offset)
        check_against_the_oracle(program, [a.pk for a in artists], today, pay_within_days)
        transaction.set_rollback(True)


def test_overdue_through_the_services(admin, artist, artist2, program):
    """Grants, partial settlements, a void and a reversal, each on its own day."""
    with on(days_ago(60)):
        old = accepted_work(program, artist, admin, "2.00")  # 9000, accepted 60 days ago
    with on(days_ago(40)):
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=3000, kind="grant"
        )
        mistaken = accepted_work(program, artist, admin, "1.00")  # 4500
    with on(days_ago(35)):
        bounced = services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
        )
        middle = accepted_work(program, artist, admin, "1.00")  # 4500, 35 days ago
    with on(days_ago(20)):
        services.void_payout(payout=bounced, actor=admin, reason="bounced")
        services.reverse_contribution(contribution=mistaken, actor=admin, reason="duplicate")
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=2000, kind="settlement"
        )
    with on(days_ago(5)):
        accepted_work(program, artist, admin, "2.00")  # 9000, recent
    # Paid 5000 (grant 3000 + settlement 2000; the void counts nothing): the old work has
    # 4000 unpaid, the middle one 4500, the recent one 9000; more than 30 days: 8500.
    figures = queries.pay_deadlines([(program.pk, artist.pk, 30), (program.pk, artist2.pk, 30)])
    assert figures[(program.pk, artist.pk)] == queries.PayDeadline(8500, old.accepted_on)
    assert figures[(program.pk, artist2.pk)] == queries.PayDeadline(0, None)
    assert middle.accepted_on == days_ago(35)
    # With 40 days to pay, only the old work is late; with 60 (its exact age), none.
    assert (
        queries.pay_deadlines([(program.pk, artist.pk, 40)])[(program.pk, artist.pk)].overdue_minor
        == 4000
    )
    assert (
        queries.pay_deadlines([(program.pk, artist.pk, 60)])[(program.pk, artist.pk)].overdue_minor
        == 0
    )
    check_against_the_oracle(program, [artist.pk, artist2.pk], TODAY, 30)
    # Settled in full: nothing unpaid, nothing overdue.
    owed = queries.payable_balance_minor(program, artist)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=owed, kind="settlement"
    )
    assert queries.pay_deadlines([(program.pk, artist.pk, 30)])[
        (program.pk, artist.pk)
    ] == queries.PayDeadline(0, None)
    assert queries.program_report(program).overdue_outstanding_minor == 0


def test_a_page_of_balances_costs_one_query_whatever_its_size(
    admin, program, django_assert_num_queries
):
    other = make_program(admin, currency="EUR")
    members = []
    for i in range(6):
        person = UserFactory(username=f"page{i}")
        for p in (program, other):
            services.enroll_artist(actor=admin, program=p, artist=person)
            with on(days_ago(40)):
                accepted_work(p, person, admin)
            members.append((p.pk, person.pk, 30))
    with django_assert_num_queries(1):
        figures = queries.pay_deadlines(members)
    assert all(f.overdue_minor == 9000 for f in figures.values())
    assert len(figures) == 12


@pytest.mark.django_db(transaction=True)
def test_balances_read_the_kept_figures_and_stay_exact(django_assert_num_queries):
    """Out of a transaction (as a page or an API list reads), balances' unpaid work comes
    from the report's kept figures: after every service call it equals the Python FIFO, and
    a second read at an unmoved head costs one query (the heads) whatever the page size."""
    import random

    admin = UserFactory(username="kept-admin", is_superuser=True)
    artists = [UserFactory(username=f"kept{i}") for i in range(4)]
    program = make_program(admin)
    other = make_program(admin, currency="EUR")
    for artist in artists:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    services.enroll_artist(actor=admin, program=other, artist=artists[0])
    with on(days_ago(50)):
        accepted_work(other, artists[0], admin)
    rng = random.Random(5)
    accepted, paid = [], []
    members = [(program.pk, a.pk, 20) for a in artists] + [(other.pk, artists[0].pk, 20)]
    for step in range(40):
        random_service_call(
            rng,
            program=program,
            admin=admin,
            artists=artists,
            accepted=accepted,
            paid=paid,
            day=days_ago(60 - step),
        )
        figures = queries.pay_deadlines(members)
        expected = oracle_unpaid(program)
        for program_id, artist_id, days in members[:-1]:
            want = oracle_deadline(expected.get(artist_id, []), days, TODAY)
            got = figures[(program_id, artist_id)]
            assert (got.overdue_minor, got.oldest_unpaid_on) == want, (step, artist_id)
        assert figures[(other.pk, artists[0].pk)] == queries.PayDeadline(9000, days_ago(50))
        # The heads; and, while the program has no entry yet (nothing kept), its members
        # read afresh.
        posted = LedgerHead.objects.get(program=program).seq > 0
        with django_assert_num_queries(1 if posted else 2):
            assert queries.pay_deadlines(members) == figures
    assert any(f.overdue_minor for f in figures.values())
    row, stored = report_cache.stored(program)  # read from (and stored for) the report
    assert row.at and set(stored) == {artist.pk for artist in artists}


# --- the report ----------------------------------------------------------------------------


def test_report_counts_overdue_reviews_and_sums_overdue_money(admin, artist, artist2, program):
    with on(days_ago(20)):
        log_feedback(program, artist)  # due 6 days ago: overdue
        accepted_work(program, artist2, admin)  # 9000 accepted 20 days ago
    with on(days_ago(45)):
        accepted_work(program, artist, admin)  # 9000 accepted 45 days ago: overdue
    log_bug(program, artist2)  # due in 14 days
    report = queries.program_report(program)
    assert report.reviews_overdue == 1
    assert report.overdue_outstanding_minor == 9000
    services.update_program(actor=admin, program=program, pay_within_days=10)
    program.refresh_from_db()
    assert queries.program_report(program).overdue_outstanding_minor == 18000
    with on(TODAY + dt.timedelta(days=30)):  # a month on, the second item is overdue too
        assert queries.program_report(program).reviews_overdue == 2


# --- apply_deadlines -----------------------------------------------------------------------


@pytest.fixture
def reviewer(admin, program):
    person = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=person, role="reviewer")
    return person


def _counts():
    return (
        Contribution.objects.filter(status="accepted").count(),
        Entry.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def test_overdue_work_is_accepted_by_the_system(admin, artist, reviewer, program):
    program = services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    strict = make_program(admin, currency="EUR")  # does not accept overdue work
    services.enroll_artist(actor=admin, program=strict, artist=artist)
    with on(days_ago(20)):
        overdue = log_feedback(program, artist, "2.00")
        bug = log_bug(program, artist, "critical")
        elsewhere = log_feedback(strict, artist)
    with on(days_ago(3)):
        recent = log_feedback(program, artist)

    run = services.apply_deadlines()
    assert sorted(run.accepted) == sorted([overdue.pk, bug.pk])
    for work, value in ((overdue, 9000), (bug, 50000)):
        work.refresh_from_db()
        assert work.status == "accepted" and work.reviewed_by is None
        assert (work.value_minor, work.accepted_on) == (value, TODAY)
        assert work.rate_card is not None and "not reviewed by its due date" in work.review_note
        entry = Entry.objects.get(contribution=work)
        assert entry.effective_date == TODAY and entry.created_by_id is None
        event = AuditEvent.objects.get(action="contribution.accept", object_id=str(work.pk))
        assert event.actor_id is None
        assert event.data["rule"] == "auto_accept_overdue"
        assert event.data["review_due_on"] == (days_ago(20) + dt.timedelta(days=14)).isoformat()
        assert event.data["value_minor"] == value
        told = Notification.objects.get(user=artist, subject_id=str(work.pk))
        assert told.kind == "contribution_reviewed" and "accepted automatically" in told.message
    for work in (recent, elsewhere):
        work.refresh_from_db()
        assert work.status == "submitted"
    assert queries.payable_balance_minor(program, artist) == 59000
    assert verify_program(program).ok
    # The strict program's overdue work is not accepted: its reviewers are reminded (its
    # manager, as it has no reviewer).
    assert run.reminded == {strict.pk: 1}
    assert Notification.objects.filter(user=admin, kind="review_overdue").count() == 1

    before = _counts()
    again = services.apply_deadlines()
    assert (again.accepted, again.reminded, again.notifications) == ([], {}, 0)
    assert _counts() == before


def test_the_system_accepts_even_the_reviewers_own_work(admin, reviewer, program):
    """Separation of duties binds people; the system is nobody's artist."""
    services.enroll_artist(actor=admin, program=program, artist=reviewer)
    services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    with on(days_ago(15)):
        own = log_feedback(program, reviewer)
    assert services.apply_deadlines().accepted == [own.pk]


def test_reminders_go_to_the_reviewers_once_per_due_date(admin, artist, reviewer, program):
    second = UserFactory(username="reviewer2")
    services.grant_role(actor=admin, program=program, user=second, role="reviewer")
    with on(days_ago(16)):
        first = log_feedback(program, artist)
        log_bug(program, artist)
    with on(days_ago(14)):
        not_yet = log_bug(program, artist)  # due today: not overdue yet

    run = services.apply_deadlines()
    assert run.accepted == [] and run.reminded == {program.pk: 2} and run.notifications == 2
    for person in (reviewer, second):
        (note,) = Notification.objects.filter(user=person, kind="review_overdue")
        assert note.subject_type == "program" and note.subject_id == str(program.pk)
        assert note.message.startswith("2 contributions in Program USD are past")
    assert not Notification.objects.filter(user=admin).exists()  # the manager: reviewers exist
    reminders = AuditEvent.objects.filter(action="contribution.remind")
    assert reminders.count() == 2 and all(e.actor_id is None for e in reminders)
    assert Contribution.objects.get(pk=first.pk).status == "submitted"

    before = _counts()
    assert services.apply_deadlines().notifications == 0
    assert _counts() == before

    with on(TODAY + dt.timedelta(days=1)):  # the next day, one more is overdue
        run = services.apply_deadlines()
    assert run.reminded == {program.pk: 1}
    for person in (reviewer, second):
        latest = Notification.objects.filter(user=person).latest("id")
        assert (latest.subject_type, latest.subject_id) == ("contribution", str(not_yet.pk))
        assert "is past its review deadline" in latest.message
    # A new deadline gives the work a new due date: reminded about that one too.
    services.update_program(actor=admin, program=program, review_within_days=10)
    assert services.apply_deadlines().reminded == {program.pk: 3}
    assert services.apply_deadlines().reminded == {}


def test_managers_are_reminded_when_there_is_no_reviewer(admin, artist, manager, program):
    with on(days_ago(20)):
        log_feedback(program, artist)
    run = services.apply_deadlines()
    assert run.notifications == 2
    assert {n.user_id for n in Notification.objects.filter(kind="review_overdue")} == {
        admin.pk,
        manager.pk,
    }


def test_nobody_is_reminded_of_their_own_work(admin, reviewer, program):
    services.enroll_artist(actor=admin, program=program, artist=reviewer)
    with on(days_ago(20)):
        log_feedback(program, reviewer)
    run = services.apply_deadlines()
    assert run.reminded == {program.pk: 1} and run.notifications == 0


def test_deadlines_follow_the_apps_clock(admin, artist, program):
    """Run under a shifted clock (as under libfaketime), the deadlines of that day apply."""
    services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    work = log_feedback(program, artist)  # submitted today, due in 14 days
    assert services.apply_deadlines().accepted == []
    later = TODAY + dt.timedelta(days=15)
    with on(later):
        run = services.apply_deadlines()
    assert run.accepted == [work.pk] and run.today == later
    work.refresh_from_db()
    assert work.accepted_on == later


def test_the_command_prints_a_summary(admin, artist, program):
    services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    with on(days_ago(20)):
        log_feedback(program, artist)
    out = io.StringIO()
    call_command("apply_deadlines", stdout=out)
    assert out.getvalue().startswith(f"Deadlines of {TODAY.isoformat()}: accepted 1 overdue")
    out = io.StringIO()
    call_command("apply_deadlines", stdout=out)
    assert "accepted 0 overdue contribution(s); reminded reviewers of 0" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_accept_and_remind_once():
    admin = UserFactory(username="both-admin", is_superuser=True)
    artist = UserFactory(username="both-artist")
    reviewer = UserFactory(username="both-reviewer")
    eager = make_program(admin)
    strict = make_program(admin, currency="EUR")
    for program in (eager, strict):
        services.enroll_artist(actor=admin, program=program, artist=artist)
        services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    services.update_program(actor=admin, program=eager, auto_accept_overdue=True)
    with on(days_ago(20)):
        accepted = [log_feedback(eager, artist) for _ in range(5)]
        waiting = [log_bug(strict, artist) for _ in range(3)]

    barrier = threading.Barrier(2)
    runs, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            runs.append(services.apply_deadlines())
        except Exception as error:  # asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(runs) == 2
    assert sorted(pk for run in runs for pk in run.accepted) == sorted(c.pk for c in accepted)
    for work in accepted:
        assert Entry.objects.filter(contribution=work).count() == 1
        assert Notification.objects.filter(user=artist, subject_id=str(work.pk)).count() == 1
    assert sum(run.reminded.get(strict.pk, 0) for run in runs) == 3
    assert AuditEvent.objects.filter(action="contribution.remind").count() == 3
    assert Notification.objects.filter(user=reviewer, kind="review_overdue").count() == 1
    assert all(Contribution.objects.get(pk=w.pk).status == "submitted" for w in waiting)
    assert verify_program(eager).ok


def test_unpaid_work_is_cut_to_the_pairs_asked_for(admin, artist, artist2, program):
    """Two programs and two artists, only two of the four pairs asked for: the statement
    reads the cross product, the answer keeps the pairs."""
    other = make_program(admin, currency="EUR")
    services.enroll_artist(actor=admin, program=other, artist=artist2)
    for p, person in ((program, artist), (program, artist2), (other, artist2)):
        accepted_work(p, person, admin)
    found = fifo.unpaid_work([(program.pk, artist.pk), (other.pk, artist2.pk)])
    assert set(found) == {(program.pk, artist.pk), (other.pk, artist2.pk)}
    assert found[(program.pk, artist.pk)] == {TODAY: 9000}
