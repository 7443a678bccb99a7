"""Reads: balances, statements, the program report; the demo data."""

import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import User
from ledger import access, clock, queries, services
from ledger.models import LedgerHead, Program
from tests.conftest import TODAY, accepted_work, log_feedback

pytestmark = pytest.mark.django_db


def at(day: dt.date):
    return clock.frozen(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def test_balances_one_row_per_membership_with_pending(admin, artist, artist2, program):
    accepted_work(program, artist, admin, "2.00")  # 9000
    log_feedback(program, artist, "1.00")  # pending 4500
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="grant"
    )
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=2000, kind="settlement"
    )
    rows = {row.artist_id: row for row in queries.balances().filter(program=program)}
    assert set(rows) == {artist.pk, artist2.pk}  # zero rows included
    mine = rows[artist.pk]
    assert (mine.valued_minor, mine.grants_minor, mine.settlements_minor) == (9000, 1000, 2000)
    assert (mine.paid_minor, mine.outstanding_minor, mine.pending_minor) == (3000, 6000, 4500)
    assert (rows[artist2.pk].outstanding_minor, rows[artist2.pk].pending_minor) == (0, 0)
    assert queries.payable_balance_minor(program, artist) == 6000


def test_balance_read_is_constant_in_queries(admin, artist, program, django_assert_num_queries):
    for _ in range(5):
        accepted_work(program, artist, admin)
    with django_assert_num_queries(1):
        queries.payable_balance_minor(program, artist)


def test_balance_read_of_a_non_member_raises(admin, artist, program):
    from ledger.models import Account
    from tests.conftest import make_program

    other = make_program(admin, currency="EUR")
    with pytest.raises(Account.DoesNotExist):
        queries.payable_balance_minor(other, artist)


def test_statement_running_balance_and_period(admin, artist, program):
    d1, d2, d3 = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=10), TODAY
    with at(d1):
        accepted_work(program, artist, admin, "2.00")  # +9000 on d1
    with at(d2):
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
        )
    with at(d3):
        payout = services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=700, kind="grant"
        )
        services.void_payout(payout=payout, actor=admin, reason="dup")

    full = queries.statement(artist=artist, program=program)
    assert [(line.kind, line.amount_minor, line.balance_minor) for line in full.lines] == [
        ("acceptance", 9000, 9000),
        ("payout", -5000, 4000),
        ("payout", -700, 3300),
        ("void", 700, 4000),
    ]
    assert full.opening_minor == 0 and full.closing_minor == 4000
    assert full.head_hash == full.lines[-1].entry_hash

    part = queries.statement(
        artist=artist, program=program, date_from=d2, date_to=d2 + dt.timedelta(days=1)
    )
    assert part.opening_minor == 9000
    assert [line.amount_minor for line in part.lines] == [-5000]
    assert part.closing_minor == 4000
    assert part.head_hash == part.lines[-1].entry_hash


def test_report_figures_and_paid_ahead(admin, program, artist, artist2):
    accepted_work(program, artist, admin, "2.00")  # artist owed 9000
    services.accept_contribution(
        contribution=services.submit_contribution(
            actor=artist2,
            program=program,
            kind="bug_report",
            title="b",
            occurred_on=TODAY,
            severity="high",
        ),
        actor=admin,
    )  # artist2 valued 20000
    services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=25000, kind="grant"
    )  # artist2 paid 5000 ahead
    report = queries.program_report(program)
    assert report.contributors == 2
    assert report.feedback_hours == Decimal("2.00")
    assert report.bug_reports_accepted == 1
    assert (report.valued_minor, report.paid_minor) == (29000, 25000)
    assert (report.grants_minor, report.settlements_minor) == (25000, 0)
    # one artist's grant does not hide the other's unpaid work
    assert (report.outstanding_minor, report.paid_ahead_minor) == (9000, 5000)
    assert report.valued_minor - report.paid_minor == (
        report.outstanding_minor - report.paid_ahead_minor
    )
    assert report.paid_ratio == Decimal("0.8621")
    assert report.median_days_to_payment == Decimal("0.0")
    assert report.head_hash == LedgerHead.objects.get(program=program).hash


def test_report_excludes_reversed_work(admin, program, artist):
    contribution = accepted_work(program, artist, admin, "2.00")
    services.reverse_contribution(contribution=contribution, actor=admin, reason="dup")
    report = queries.program_report(program)
    assert (report.contributors, report.feedback_hours, report.valued_minor) == (
        0,
        Decimal("0.00"),
        0,
    )
    assert report.paid_ratio is None and report.median_days_to_payment is None


def test_median_days_fifo(admin, program, artist, artist2):
    base = TODAY - dt.timedelta(days=60)
    with at(base):
        a1 = accepted_work(program, artist, admin, "1.00")  # 4500, accepted day 0
    with at(base + dt.timedelta(days=10)):
        accepted_work(program, artist, admin, "1.00")  # 4500, accepted day 10
        accepted_work(program, artist2, admin, "1.00")  # 4500, accepted day 10
    with at(base + dt.timedelta(days=20)):
        # 6000 completes a1 (20 days) and half of a2
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=6000, kind="settlement"
        )
    with at(base + dt.timedelta(days=25)):
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=3000, kind="settlement"
        )  # completes a2: 15 days after its acceptance
        voided = services.record_payout(
            actor=admin, artist=artist2, program=program, amount_minor=4500, kind="settlement"
        )
        services.void_payout(payout=voided, actor=admin, reason="bounced")  # does not count
    assert a1.accepted_on == base
    # settled: 20 and 15 days → median 17.5
    assert queries.median_days_to_payment(program) == Decimal("17.5")


def test_monthly_series_cumulative(admin, program, artist):
    with at(TODAY - dt.timedelta(days=40)):
        accepted_work(program, artist, admin, "2.00")
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="grant"
    )
    series = queries.monthly_series(program)
    assert series[-1][1:] == (9000, 1000)
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(series))


def test_seed_demo_is_idempotent_and_verifies():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    counts = (User.objects.count(), Program.objects.count())
    call_command("seed_demo", stdout=out)
    assert (User.objects.count(), Program.objects.count()) == counts
    assert "already loaded" in out.getvalue()
    assert "admin" in out.getvalue() and "ledger-demo-2026" in out.getvalue()
    assert counts[0] >= 21 and counts[1] == 3
    assert Program.objects.filter(public=True).count() == 1
    from ledger.models import Contribution, Payout

    statuses = set(Contribution.objects.values_list("status", flat=True))
    assert statuses == {"submitted", "accepted", "rejected", "withdrawn", "reversed"}
    from ledger.models import Dispute, Entry

    assert set(Dispute.objects.values_list("status", flat=True)) == {"open", "upheld", "dismissed"}
    assert Entry.objects.filter(kind="adjustment").exists()
    assert Contribution.objects.count() >= 200
    assert set(Payout.objects.values_list("kind", flat=True)) == {"grant", "settlement"}
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().count(": ok;") == 3
    # The program in euros pays by bank transfer: all but one of its artists have an IBAN.
    from accounts.models import BankDetails
    from ledger.models import Membership, PayerAccount

    (euro,) = Program.objects.filter(currency="EUR")
    assert PayerAccount.objects.filter(program=euro).exists()
    members = Membership.objects.filter(program=euro).values_list("artist_id", flat=True)
    assert BankDetails.objects.filter(user_id__in=members).count() == len(members) - 1


def test_createsuperuser_noinput_is_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-unguessable-pass")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.org")
    call_command("createsuperuser", interactive=False, stdout=io.StringIO())
    root = User.objects.get(username="root")
    assert root.is_superuser and access.is_staff(root)


def test_database_is_configured_for_concurrency():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] != "0"
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert connection.transaction_mode == "IMMEDIATE"
