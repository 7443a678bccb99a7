"""The report's median days to payment (issue 7): the database's FIFO against the Python one.

`oracle_median_days` is the implementation the report used before the matching moved into
SQL (every row loaded, FIFO per artist in Python). It stays here as the reference: random
histories must give the same median on SQLite and on PostgreSQL.
"""

import datetime as dt
import random
import statistics
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import clock, queries, services
from ledger.errors import DomainError
from ledger.models import (
    Contribution,
    ContributionStatus,
    Payout,
    PayoutStatus,
    RateCard,
)
from tests.conftest import TODAY, accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def oracle_median_days(program) -> Decimal | None:
    """The pre-issue-7 implementation, verbatim in substance: the reference for the SQL."""
    work: dict[int, list[tuple[dt.date, int]]] = {}
    for artist_id, accepted_on, value in (
        Contribution.objects.filter(program=program, status=ContributionStatus.ACCEPTED)
        .exclude(value_minor=0)
        .order_by("artist_id", "reviewed_at", "id")
        .values_list("artist_id", "accepted_on", "value_minor")
    ):
        work.setdefault(artist_id, []).append((accepted_on, value))
    payments: dict[int, list[tuple[dt.date, int]]] = {}
    for artist_id, paid_on, amount in (
        Payout.objects.filter(program=program, status=PayoutStatus.PAID, artist_id__in=work)
        .order_by("artist_id", "paid_on", "id")
        .values_list("artist_id", "paid_on", "amount_minor")
    ):
        payments.setdefault(artist_id, []).append((paid_on, amount))

    days: list[int] = []
    for artist_id, items in work.items():
        queue = iter(payments.get(artist_id, []))
        paid_on, left = None, 0
        for accepted_on, need in items:
            while need > 0:
                if left == 0:
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    paid_on, left = nxt
                used = min(need, left)
                need -= used
                left -= used
            if need > 0:
                break  # this and all later work is not fully paid yet
            days.append(max(0, (paid_on - accepted_on).days))
    if not days:
        return None
    return Decimal(str(statistics.median(days))).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


# --- the histogram median ------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=60))
def test_median_of_histogram_is_statistics_median(days):
    histogram = sorted((value, days.count(value)) for value in set(days))
    expected = Decimal(str(statistics.median(days))).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    assert queries.median_of_histogram(histogram) == expected


def test_median_of_an_empty_histogram_is_none():
    assert queries.median_of_histogram([]) is None


# --- random histories: SQL against the oracle ----------------------------------------------

BASE = TODAY - dt.timedelta(days=200)
ARTISTS = 3

# One step of a history: (kind, artist index, day offset, amount or value in minor units,
# flag). Work: flag = accepted (else still submitted) / reversed afterwards; payments: voided.
work_step = st.tuples(
    st.just("work"),
    st.integers(0, ARTISTS - 1),
    st.integers(0, 40),  # day of acceptance (small range: same-day ties are common)
    st.sampled_from([0, 1, 500, 1000, 2500, 4500]),  # value; 0 is zero-value work
    st.sampled_from(["accepted", "accepted", "accepted", "reversed", "submitted"]),
    st.integers(0, 3),  # review slot: reviewed_at ties (broken by id), any acceptance day
)
pay_step = st.tuples(
    st.just("pay"),
    st.integers(0, ARTISTS - 1),
    st.integers(-10, 60),  # paid_on offset: before the work too (paid in advance)
    st.sampled_from([1, 499, 500, 1000, 3000, 9000]),
    st.sampled_from(["paid", "paid", "paid", "void"]),
    st.sampled_from(["grant", "settlement"]),
)
histories = st.lists(st.one_of(work_step, pay_step), max_size=40)


def build_history(program, admin, artists, steps):
    card = RateCard.objects.filter(program=program).first()
    contributions, payouts = [], []
    for kind, who, day, amount, status, extra in steps:
        artist = artists[who]
        when = BASE + dt.timedelta(days=day)
        if kind == "work":
            reviewed = status != "submitted"
            contributions.append(
                Contribution(
                    program=program,
                    artist=artist,
                    kind="feedback",
                    title="w",
                    occurred_on=BASE,
                    hours=Decimal("1.00"),
                    status=status,
                    estimate_minor=amount,
                    value_minor=amount if reviewed else None,
                    rate_card=card if reviewed else None,
                    # Review order independent of the acceptance day, ties frequent: the
                    # order is the query's to get right, whatever the dates say.
                    reviewed_at=(
                        dt.datetime.combine(BASE, dt.time(12, extra), tzinfo=dt.UTC)
                        if reviewed
                        else None
                    ),
                    accepted_on=when if reviewed else None,
                )
            )
        else:
            payouts.append(
                Payout(
                    program=program,
                    artist=artist,
                    kind=extra,
                    amount_minor=amount,
                    paid_on=when,
                    status=status,
                    created_by=admin,
                )
            )
    # Rows are saved in history order, so ids interleave with the dates as they would live.
    for row in contributions:
        row.save()
    for row in payouts:
        row.save()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=histories)
def test_median_days_matches_the_python_fifo(admin, program, steps):
    artists = [UserFactory(username=f"fifo{i}") for i in range(ARTISTS)]
    with transaction.atomic():
        build_history(program, admin, artists, steps)
        assert queries.median_days_to_payment(program) == oracle_median_days(program), steps
        transaction.set_rollback(True)  # the next example starts from an empty history


@pytest.mark.parametrize(
    "steps, expected",
    [
        # exact payment: the payment whose running sum equals the work's completes it
        ([("work", 0, 0, 1000, "accepted", 0), ("pay", 0, 5, 1000, "paid", "grant")], "5.0"),
        # paid in advance: 0 days, not negative
        ([("work", 0, 10, 1000, "accepted", 0), ("pay", 0, 0, 1000, "paid", "grant")], "0.0"),
        # a void counts for nothing; zero-value and reversed work are not settled work
        (
            [
                ("work", 0, 0, 0, "accepted", 0),
                ("work", 0, 0, 500, "reversed", 0),
                ("work", 0, 1, 500, "accepted", 0),
                ("pay", 0, 3, 500, "void", "grant"),
                ("pay", 0, 7, 500, "paid", "settlement"),
            ],
            "6.0",
        ),
        # same reviewed_at: id order; the first item done by the first payment, the second
        # needs the next one (two artists: 4, 9, 2 → median 4)
        (
            [
                ("work", 0, 0, 500, "accepted", 0),
                ("work", 0, 0, 500, "accepted", 0),
                ("pay", 0, 4, 600, "paid", "grant"),
                ("pay", 0, 9, 400, "paid", "grant"),
                ("work", 1, 0, 500, "accepted", 0),
                ("pay", 1, 2, 499, "paid", "grant"),
                ("pay", 1, 2, 1, "paid", "grant"),
            ],
            "4.0",
        ),
        # not fully paid: no settled work at all
        ([("work", 0, 0, 1000, "accepted", 0), ("pay", 0, 5, 999, "paid", "grant")], None),
    ],
)
def test_median_days_edge_cases(admin, program, steps, expected):
    artists = [UserFactory(username=f"edge{i}") for i in range(ARTISTS)]
    build_history(program, admin, artists, steps)
    median = queries.median_days_to_payment(program)
    assert median == (None if expected is None else Decimal(expected))
    assert median == oracle_median_days(program)


# --- the cache of posted work: exact after any sequence of service calls -------------------


@pytest.fixture
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_cached_report_equals_a_fresh_one_after_every_service_call(
    empty_cache, django_assert_num_queries
):
    """The proof obligation of `queries._posted_work`, driven through the services.

    Outside a transaction (as a page or API read runs), so the cache is written and read.
    Feedback is valued at a zero card (accepted, counted, but no entry: the live part);
    bug reports at nonzero bounties (posted: the cached part). After each call the report
    (cached where the head did not move) must equal one computed from scratch.
    """
    admin = UserFactory(username="cache-admin", role="admin")
    artists = [UserFactory(username=f"cache{i}") for i in range(3)]
    program = make_program(admin, hourly="0")
    for artist in artists:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    rng = random.Random(7)  # a fixed walk: reproducible, and long enough to visit every path
    accepted, paid = [], []
    for step in range(60):
        day = TODAY - dt.timedelta(days=60 - step)
        artist = rng.choice(artists)
        move = rng.choice(["feedback", "bug", "bug", "reverse", "grant", "settle", "void"])
        with clock.frozen(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)):
            try:
                if move in ("feedback", "bug"):
                    work = (
                        log_feedback(program, artist)
                        if move == "feedback"
                        else log_bug(program, artist, rng.choice(["low", "high"]))
                    )
                    accepted.append(services.accept_contribution(contribution=work, reviewer=admin))
                elif move == "reverse" and accepted:
                    services.reverse_contribution(
                        contribution=accepted.pop(rng.randrange(len(accepted))),
                        reviewer=admin,
                        reason="mistake",
                    )
                elif move in ("grant", "settle"):
                    paid.append(
                        services.record_payout(
                            actor=admin,
                            artist=artist,
                            program=program,
                            amount_minor=rng.choice([500, 1000, 20000]),
                            kind="grant" if move == "grant" else "settlement",
                            paid_on=day - dt.timedelta(days=rng.choice([0, 3])),
                        )
                    )
                elif move == "void" and paid:
                    services.void_payout(
                        payout=paid.pop(rng.randrange(len(paid))), actor=admin, reason="bounced"
                    )
            except DomainError:
                pass  # e.g. a settlement larger than what is owed: refused, nothing changes
        maybe_cached = queries.program_report(program)
        cache.clear()
        fresh = queries.program_report(program)  # computed, then stored: the head is still
        assert maybe_cached == fresh, (step, move)
        assert fresh.median_days_to_payment == oracle_median_days(program)
        with django_assert_num_queries(3):  # head, zero-value work, memberships: a hit
            assert queries.program_report(program) == fresh
    report = queries.program_report(program)
    assert report.contributors and report.bug_reports_accepted and report.feedback_hours
    assert report.median_days_to_payment is not None


@pytest.mark.django_db(transaction=True)
def test_zero_value_acceptance_shows_in_a_cached_report(empty_cache):
    """Zero-value work posts no entry (the head stays), yet it counts: it is read live."""
    admin = UserFactory(username="zero-admin", role="admin")
    artist = UserFactory(username="zero-artist")
    program = make_program(admin, hourly="0")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    services.accept_contribution(contribution=log_bug(program, artist), reviewer=admin)
    before = queries.program_report(program)  # cached under this head
    services.accept_contribution(contribution=log_feedback(program, artist, "1.50"), reviewer=admin)
    after = queries.program_report(program)
    assert after.head_hash == before.head_hash  # no entry posted
    assert (before.feedback_hours, after.feedback_hours) == (Decimal("0.00"), Decimal("1.50"))


def test_report_is_not_cached_inside_a_transaction(admin, program, artist, empty_cache):
    """Inside a transaction the state read may be rolled back, and its head seq reused."""
    accepted_work(program, artist, admin)
    queries.program_report(program)
    head = program.ledger_head
    head.refresh_from_db()
    assert cache.get(queries._posted_work_key(program, head)) is None


# --- cost: constant queries, and the indexes serve the query --------------------------------


def test_report_query_count_does_not_grow_with_the_ledger(
    admin, program, artist, artist2, django_assert_num_queries
):
    """Uncached (inside the test's transaction): head, two counts, histogram, memberships."""
    accepted_work(program, artist, admin)
    with django_assert_num_queries(5):
        queries.program_report(program)
    for _ in range(4):
        accepted_work(program, artist, admin)
        accepted_work(program, artist2, admin)
    with django_assert_num_queries(5):
        queries.program_report(program)


@pytest.mark.postgres
def test_median_query_can_read_the_fifo_indexes_alone(admin, program, artist):
    """The partial covering indexes match the query's predicates (an index-only plan exists).

    The tables are tiny here, so every scan but index-only ones is switched off to ask the
    planner whether the indexes can serve the query alone (predicate implied, columns
    covered); at scale it prefers them by cost (docs/PERFORMANCE.md has the plan at 900k
    postings).
    """
    accepted_work(program, artist, admin)
    with transaction.atomic(), connection.cursor() as cursor:
        for scan in ("seqscan", "bitmapscan", "indexscan"):  # index-only scans remain
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute(
            "EXPLAIN " + queries._MEDIAN_DAYS_SQL["postgresql"], [program.pk, program.pk]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using contribution_accepted_fifo" in plan, plan
    assert "Index Only Scan using payout_paid_fifo" in plan, plan
