"""Rules the database itself enforces on PostgreSQL, even against raw SQL."""

import threading

import pytest
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from ledger import queries, services
from ledger.errors import InsufficientBalance
from ledger.models import AccountBalance, AuditEvent, Entry, Payout, Posting
from ledger.verify import verify_program
from tests.conftest import accepted_work, make_program
from tests.factories import UserFactory

pg = pytest.mark.postgres


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pg
@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_posting SET amount_minor = amount_minor + 1",
        "DELETE FROM ledger_posting",
        "TRUNCATE ledger_posting CASCADE",
        "UPDATE ledger_entry SET memo = 'rewritten'",
        "DELETE FROM ledger_entry",
        "TRUNCATE ledger_entry CASCADE",
        "UPDATE ledger_auditevent SET action = 'x'",
        "DELETE FROM ledger_auditevent",
        "UPDATE ledger_ratecard SET hourly_rate_minor = 1",
    ],
)
def test_journal_rows_cannot_be_changed(admin, artist, program, sql):
    accepted_work(program, artist, admin)
    before = (Posting.objects.count(), Entry.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DatabaseError), transaction.atomic():
        raw(sql)
    assert (Posting.objects.count(), Entry.objects.count(), AuditEvent.objects.count()) == before
    assert verify_program(program).ok


def _insert_entry(program, seq, hash_, legs):
    """Insert an entry and its postings with raw SQL, as an attacker with DB access would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_entry (program_id, seq, kind, contribution_id, memo, posted_at,"
            " effective_date, prev_hash, hash) VALUES (%s, %s, 'acceptance', %s, 'raw', now(),"
            " current_date, %s, %s) RETURNING id",
            [program.pk, seq, legs[0][2], "0" * 64, hash_],
        )
        entry_id = cursor.fetchone()[0]
        for account_id, amount, _ in legs:
            cursor.execute(
                "INSERT INTO ledger_posting (entry_id, program_id, account_id, amount_minor,"
                " currency) VALUES (%s, %s, %s, %s, 'USD')",
                [entry_id, program.pk, account_id, amount],
            )
    return entry_id


@pg
@pytest.mark.django_db(transaction=True)
def test_unbalanced_entry_refused_at_commit(admin, artist, program):
    contribution = services.submit_contribution(
        actor=artist, program=program, kind="bug_report", title="t",
        occurred_on=program.created_at.date(), severity="low",
    )  # fmt: skip
    labor = program.accounts.get(kind="labor").pk
    payable = program.accounts.get(kind="payable", artist=artist).pk
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        _insert_entry(program, 99, "a" * 64, [(labor, 500, contribution.pk),
                                               (payable, -400, contribution.pk)])  # fmt: skip
    with pytest.raises(IntegrityError, match="fewer than two"), transaction.atomic():
        _insert_entry(program, 99, "b" * 64, [(labor, 500, contribution.pk)])
    assert not Entry.objects.filter(seq=99).exists()
    # A balanced raw entry does commit: the trigger checks balance, nothing else.
    with transaction.atomic():
        _insert_entry(program, 99, "c" * 64, [(labor, 500, contribution.pk),
                                               (payable, -500, contribution.pk)])  # fmt: skip
    assert Entry.objects.filter(seq=99).exists()
    # …and verify_ledger notices it does not belong to the chain.
    assert not verify_program(program).ok


@pg
@pytest.mark.django_db(transaction=True)
def test_extra_posting_on_old_entry_refused(admin, artist, program):
    contribution = accepted_work(program, artist, admin)
    entry = Entry.objects.get(contribution=contribution)
    labor = program.accounts.get(kind="labor").pk
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        raw(
            "INSERT INTO ledger_posting (entry_id, program_id, account_id, amount_minor, currency)"
            " VALUES (%s, %s, %s, 1, 'USD')",
            [entry.pk, program.pk, labor],
        )
    assert entry.postings.count() == 2


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


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_full_settlements_pay_once(admin, artist, program):
    """10 threads each try to settle the whole balance: exactly one succeeds."""
    accepted_work(program, artist, admin, "4.00")  # 180.00 owed
    owed = queries.payable_balance_minor(program, artist)

    results = _run_threads(
        10,
        lambda i: services.record_payout(
            actor=admin,
            artist=artist,
            program=program,
            amount_minor=owed,
            kind="settlement",
            reference=f"T{i}",
        ),
    )
    paid = [r for r in results if isinstance(r, Payout)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(paid) == 1, results
    assert len(refused) == 9, results
    assert queries.payable_balance_minor(program, artist) == 0
    assert Payout.objects.count() == 1
    assert verify_program(program).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_small_settlements_never_overdraw(admin, artist, program):
    accepted_work(program, artist, admin, "1.00")  # 4500 owed; 12 x 1000 requested
    results = _run_threads(
        12,
        lambda i: services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=1000, kind="settlement"
        ),
    )
    paid = [r for r in results if isinstance(r, Payout)]
    assert len(paid) == 4, results
    assert all(isinstance(r, Payout | InsufficientBalance) for r in results), results
    assert queries.payable_balance_minor(program, artist) == 500
    balance = AccountBalance.objects.get(account__kind="payable", account__artist=artist)
    assert balance.version == 5  # one acceptance + four settlements
    assert verify_program(program).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptances_post_once(admin, admin2, artist, program):
    from ledger.errors import InvalidTransition

    contribution = services.submit_contribution(
        actor=artist, program=program, kind="bug_report", title="t",
        occurred_on=program.created_at.date(), severity="high",
    )  # fmt: skip
    reviewers = [admin, admin2] * 4
    results = _run_threads(
        8, lambda i: services.accept_contribution(contribution=contribution, actor=reviewers[i])
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1, results
    assert all(isinstance(r, InvalidTransition) for r in results if isinstance(r, Exception))
    assert Entry.objects.filter(contribution=contribution).count() == 1
    assert queries.payable_balance_minor(program, artist) == 20000


@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_across_programs_keep_chains(admin):
    programs, artists = [], []
    for i in range(3):
        program = make_program(admin, currency=["USD", "EUR", "JPY"][i])
        member = UserFactory(username=f"chain{i}")
        services.enroll_artist(actor=admin, program=program, artist=member)
        programs.append(program)
        artists.append(member)

    def work(i):
        program, member = programs[i % 3], artists[i % 3]
        for _ in range(3):
            services.record_payout(
                actor=admin, artist=member, program=program, amount_minor=100, kind="grant"
            )
        return True

    results = _run_threads(9, work)
    assert results == [True] * 9
    for program in programs:
        result = verify_program(program)
        assert result.ok, result.problems
        assert result.entries_checked == 9


@pg
@pytest.mark.django_db(transaction=True)
def test_mixed_concurrent_writes_in_one_program_never_deadlock(admin, admin2, artist, artist2):
    """Reviews, reversals, payouts and voids racing in one program: every call either succeeds
    or is refused by a domain rule; none dies on a deadlock or lock timeout (bench/load.py
    once found the joined program row locked FOR UPDATE by a review)."""
    from ledger.errors import DomainError

    program = make_program(admin)
    for member in (artist, artist2):
        services.enroll_artist(actor=admin, program=program, artist=member)
    work = [
        services.submit_contribution(
            actor=member,
            program=program,
            kind="bug_report",
            title=f"bug {i}",
            occurred_on=program.created_at.date(),
            severity="low",
        )
        for i in range(12)
        for member in (artist, artist2)
    ]

    def worker(i):
        reviewer = (admin, admin2)[i % 2]
        errors = []
        for n in range(8):
            target = work[(i * 8 + n) % len(work)]
            member = (artist, artist2)[n % 2]
            try:
                if n % 4 == 0:
                    services.accept_contribution(contribution=target, actor=reviewer)
                elif n % 4 == 1:
                    payout = services.record_payout(
                        actor=reviewer, artist=member, program=program, amount_minor=500,
                        kind="grant",
                    )  # fmt: skip
                    services.void_payout(payout=payout, actor=reviewer, reason="race")
                elif n % 4 == 2:
                    services.record_payout(
                        actor=reviewer, artist=member, program=program, amount_minor=300,
                        kind="settlement",
                    )  # fmt: skip
                else:
                    services.accept_contribution(contribution=target, actor=reviewer)
                    services.reverse_contribution(
                        contribution=target, actor=reviewer, reason="race"
                    )
            except DomainError:
                pass
            except Exception as error:  # a deadlock or lock timeout fails the test
                errors.append(error)
        return errors

    results = _run_threads(6, worker)
    assert all(r == [] for r in results), results
    result = verify_program(program)
    assert result.ok, result.problems
