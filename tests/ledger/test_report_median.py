"""The report's median days to payment: the database's FIFO against the Python one.

`oracle_median_days` is the implementation the report used before the matching moved into
SQL (every row loaded, FIFO per artist in Python). It stays here as the reference: random
histories must give the same median on SQLite and on PostgreSQL.
"""

import datetime as dt
import random
import statistics
import threading
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import clock, queries, services
from ledger.errors import DomainError
from ledger.models import (
    Contribution,
    ContributionStatus,
    LedgerHead,
    Payout,
    PayoutStatus,
    RateCard,
)
from ledger.queries import report_cache
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


# --- posted work kept per artist: exact after any sequence of service calls ----------------


@pytest.fixture
def recomputed(monkeypatch):
    """The artists each recompute asked for, in order: a list of ids, or None for all."""
    calls = []
    read = report_cache.read_artist_work

    def spy(program, artist_ids=None):
        calls.append(None if artist_ids is None else sorted(artist_ids))
        return read(program, artist_ids)

    monkeypatch.setattr(report_cache, "read_artist_work", spy)
    return calls


def fresh_report(program):
    """The report computed from nothing stored, leaving the store as it was: inside a
    transaction, rolled back, that empties the program's stored figures first."""
    with transaction.atomic():
        report_cache.forget(program)
        report = queries.program_report(program)
        transaction.set_rollback(True)
    return report


def stored_figures(program):
    """The program's stored figures, after checking that they are exact at its head and
    equal the sum of its artists' stored rows."""
    row, artists = report_cache.stored(program)
    head = LedgerHead.objects.get(program=program)
    assert row.at == (head.seq, head.hash)
    summed = report_cache._Tally()
    for artist_id, work in artists.items():
        summed.add(artist_id, work)
    merged = report_cache._decode_tally(row.tally).counts()
    assert merged == summed.counts()
    return merged


def noon(day):
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def random_service_call(rng, *, program, admin, artists, accepted, paid, day):
    """One service call chosen by `rng`, on `day`; returns the move. Refused calls (e.g. a
    settlement larger than what is owed) raise a DomainError and change nothing."""
    artist = rng.choice(artists)
    move = rng.choice(["feedback", "bug", "bug", "reverse", "grant", "settle", "void"])
    with clock.frozen(noon(day)):
        try:
            if move in ("feedback", "bug"):
                work = (
                    log_feedback(program, artist, rng.choice(["0.25", "1.50", "2.00"]))
                    if move == "feedback"
                    else log_bug(program, artist, rng.choice(["low", "high"]))
                )
                accepted.append(services.accept_contribution(contribution=work, actor=admin))
            elif move == "reverse" and accepted:
                services.reverse_contribution(
                    contribution=accepted.pop(rng.randrange(len(accepted))),
                    actor=admin,
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
                        # grants often come before the work they pay: paid in advance
                        paid_on=day - dt.timedelta(days=rng.choice([0, 3])),
                    )
                )
            elif move == "void" and paid:
                services.void_payout(
                    payout=paid.pop(rng.randrange(len(paid))), actor=admin, reason="bounced"
                )
        except DomainError:
            pass
    return move


@pytest.mark.django_db(transaction=True)
def test_kept_report_equals_a_fresh_one_after_every_service_call(django_assert_num_queries):
    """The proof obligation of `report_cache.posted_work`, driven through the services.

    Outside a transaction (as a page or API read runs), so figures are stored and reused.
    Feedback is valued at a zero card (accepted, counted, but no entry: the live part);
    bug reports at nonzero bounties (posted: the kept part). After each call the report
    must equal one computed from scratch, and asking again is a hit.
    """
    admin = UserFactory(username="cache-admin", is_superuser=True)
    artists = [UserFactory(username=f"cache{i}") for i in range(3)]
    program = make_program(admin, hourly="0")
    for artist in artists:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    rng = random.Random(7)  # a fixed walk: reproducible, and long enough to visit every path
    accepted, paid = [], []
    for step in range(60):
        day = TODAY - dt.timedelta(days=60 - step)
        move = random_service_call(
            rng,
            program=program,
            admin=admin,
            artists=artists,
            accepted=accepted,
            paid=paid,
            day=day,
        )
        kept = queries.program_report(program)
        fresh = fresh_report(program)
        assert kept == fresh, (step, move)
        assert fresh.median_days_to_payment == oracle_median_days(program)
        # head, stored figures, zero-value work, memberships, confirmed payouts, overdue
        # reviews, disputes: a hit
        with django_assert_num_queries(7):
            assert queries.program_report(program) == fresh
    report = queries.program_report(program)
    assert report.contributors and report.bug_reports_accepted and report.feedback_hours
    assert report.median_days_to_payment is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_figures_equal_a_computation_from_scratch(seed, recomputed):
    """Random service-driven histories, the report asked for between some of the calls.

    Everything is valued (feedback too), so every accepted item is kept per artist; several
    calls may come between two reports (several artists moved, sometimes most of them:
    both the per-artist and the whole-program recompute run); two artists join halfway
    (payables the kept figures have never seen). Each report must equal one computed from
    scratch and its median the Python FIFO's.
    """
    admin = UserFactory(username=f"walk-admin{seed}", is_superuser=True)
    artists = [UserFactory(username=f"walk{seed}-{i}") for i in range(6)]
    program = make_program(admin)
    for artist in artists[:4]:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    rng = random.Random(seed)
    accepted, paid, members = [], [], artists[:4]
    reports = 0
    for step in range(90):
        if step == 45:
            for artist in artists[4:]:
                services.enroll_artist(actor=admin, program=program, artist=artist)
            members = artists
        day = TODAY - dt.timedelta(days=90 - step)
        random_service_call(
            rng,
            program=program,
            admin=admin,
            artists=members,
            accepted=accepted,
            paid=paid,
            day=day,
        )
        if rng.random() < 0.5:
            continue  # more calls before the next report
        report = queries.program_report(program)
        reports += 1
        assert report == fresh_report(program), step
        assert stored_figures(program) == report_cache.from_scratch(program)
        assert report.median_days_to_payment == oracle_median_days(program), step
    assert reports > 20
    assert None in recomputed  # the whole program (the first report, or most moved)
    assert any(ids and len(ids) < len(members) for ids in recomputed)  # some artists only
    assert queries.program_report(program).median_days_to_payment is not None


@pytest.fixture
def busy_program(db):
    """Five artists, each with valued work paid by a grant, committed (transactional tests)."""
    admin = UserFactory(username="busy-admin", is_superuser=True)
    artists = [UserFactory(username=f"busy{i}") for i in range(5)]
    program = make_program(admin)
    for i, artist in enumerate(artists):
        services.enroll_artist(actor=admin, program=program, artist=artist)
        with clock.frozen(noon(TODAY - dt.timedelta(days=30 - i))):
            accepted_work(program, artist, admin, "1.00")  # 4500
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=4500 + i, kind="grant"
        )  # settles it, paid ahead by i
    return admin, artists, program


@pytest.mark.django_db(transaction=True)
def test_an_entry_for_one_artist_recomputes_that_artist_only(
    busy_program, recomputed, django_assert_num_queries
):
    admin, artists, program = busy_program
    queries.program_report(program)
    assert recomputed == [None]  # the first report reads everything
    services.record_payout(
        actor=admin, artist=artists[2], program=program, amount_minor=100, kind="grant"
    )
    # head, stored figures (not at this head); in one snapshot: head and stored figures,
    # payable versions, chain check, stored versions, the one artist's stored row, its work;
    # stored: the program row (conditional), the artist's row deleted, inserted; zero-value
    # work, memberships, confirmed payouts, overdue reviews, disputes. And the snapshot's and
    # the store's BEGIN and COMMIT (the snapshot's SET TRANSACTION on PostgreSQL).
    transactions = 4 if connection.vendor == "sqlite" else 5
    with django_assert_num_queries(16 + transactions):
        report = queries.program_report(program)
    assert recomputed == [None, [artists[2].pk]]
    with django_assert_num_queries(7):  # nothing posted since: a hit, one stored row read
        assert queries.program_report(program) == report
    assert recomputed == [None, [artists[2].pk]]
    assert report == fresh_report(program)


@pytest.mark.django_db(transaction=True)
def test_uncommitted_entries_count_in_the_report_but_are_never_kept(busy_program, recomputed):
    """A rolled-back entry frees its balance version for other content: nothing from inside
    a transaction may be kept under it."""
    admin, artists, program = busy_program
    before = queries.program_report(program)
    assert before.median_days_to_payment is not None
    row, _ = report_cache.stored(program)
    with transaction.atomic():
        accepted_work(program, artists[0], admin, "3.00")
        inside = queries.program_report(program)
        assert inside.feedback_hours == before.feedback_hours + 3
        assert recomputed == [None, None]  # the whole program from scratch,
        assert report_cache.stored(program)[0] == row  # and not stored
        transaction.set_rollback(True)
    assert queries.program_report(program) == before
    # The same version of artists[0]'s payable, now with a payout instead of the work.
    services.record_payout(
        actor=admin, artist=artists[0], program=program, amount_minor=100, kind="grant"
    )
    after = queries.program_report(program)
    assert after == fresh_report(program)
    assert after.feedback_hours == before.feedback_hours


def test_nothing_is_kept_inside_a_transaction(admin, program, artist):
    """Inside a transaction the state read may be rolled back, and its versions reused."""
    accepted_work(program, artist, admin)
    queries.program_report(program)
    assert report_cache.stored(program) is None


@pytest.mark.django_db(transaction=True)
def test_figures_of_another_history_are_dropped(busy_program, recomputed):
    """A restored or re-created database may reuse ids and versions: the stored figures name
    an entry of their chain, and are recomputed from nothing if it is not there."""
    admin, artists, program = busy_program
    queries.program_report(program)
    with connection.cursor() as cursor:  # as if the chain had been rewritten
        cursor.execute(
            "UPDATE ledger_reportfigures SET hash = %s WHERE program_id = %s",
            ["0" * 64, program.pk],
        )
    services.record_payout(
        actor=admin, artist=artists[1], program=program, amount_minor=100, kind="grant"
    )
    report = queries.program_report(program)
    assert recomputed == [None, None]
    assert report == fresh_report(program)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_agree(busy_program):
    """Threads (as servers do) read and refresh the one store concurrently: every answer is
    exact, and the store is left consistent (its tally the sum of its artists' rows)."""
    admin, artists, program = busy_program
    queries.program_report(program)
    for artist in artists[:3]:
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
        )
    expected = fresh_report(program)
    results, errors = [], []

    def read():
        try:
            results.extend(queries.program_report(program) for _ in range(5))
        except Exception as error:  # reported below, with the thread's failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 20 and all(report == expected for report in results)
    assert stored_figures(program) == report_cache.from_scratch(program)


# --- cost: constant queries, and the indexes serve the query --------------------------------


def test_report_query_count_does_not_grow_with_the_ledger(
    admin, program, artist, artist2, django_assert_num_queries
):
    """Inside the test's transaction (nothing stored): head, stored figures (none), posted
    work, zero-value work, memberships, confirmed payouts, overdue reviews, disputes."""
    accepted_work(program, artist, admin)
    with django_assert_num_queries(8):
        queries.program_report(program)
    for _ in range(4):
        accepted_work(program, artist, admin)
        accepted_work(program, artist2, admin)
    with django_assert_num_queries(8):
        queries.program_report(program)


@pytest.mark.postgres
@pytest.mark.parametrize("some_artists", [False, True])
def test_posted_work_query_can_read_the_fifo_indexes_alone(admin, program, artist, some_artists):
    """The partial covering indexes match the query's predicates (an index-only plan exists),
    for the whole program and for a list of artists.

    The tables are tiny here, so every scan but index-only ones is switched off to ask the
    planner whether the indexes can serve the query alone (predicate implied, columns
    covered); at scale it prefers them by cost (docs/PERFORMANCE.md has the plan at 900k
    postings).
    """
    accepted_work(program, artist, admin)
    sql = report_cache.ARTIST_WORK_SQL["postgresql"]
    if some_artists:
        sql = sql.format(
            c=" AND c.artist_id IN (%s)", p=" AND p.artist_id IN (%s)", a=" AND a.artist_id IN (%s)"
        )
        params = [value for _ in range(4) for value in (program.pk, artist.pk)]
    else:
        sql, params = sql.format(c="", p="", a=""), [program.pk] * 4
    with transaction.atomic(), connection.cursor() as cursor:
        for scan in ("seqscan", "bitmapscan", "indexscan"):  # index-only scans remain
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using contribution_accepted_fifo" in plan, plan
    assert "Index Only Scan using payout_paid_fifo" in plan, plan


def test_accepted_work_must_carry_its_dates(admin, artist, program):
    """The database refuses accepted work without accepted_on or reviewed_at: the report's
    first-in first-out matching reads them (SQLite would otherwise fail on a NULL day)."""
    from django.db import IntegrityError

    contribution = accepted_work(program, artist, admin)
    for column in ("accepted_on", "reviewed_at"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Contribution.objects.filter(pk=contribution.pk).update(**{column: None})
    assert queries.program_report(program).contributors == 1
