"""The benchmark's dataset builder must make books that verify (bench/dataset.py).

The builder COPYs rows in with PostgreSQL's row triggers off, so nothing but these tests and
its own set-wise checks stands between it and a silently wrong benchmark.
"""

import pytest
from django.db import connection, transaction
from django.db.models import Count

from bench.dataset import LoadError, build_program, check_loaded
from ledger.models import AccountBalance, Entry, LedgerHead, Membership, Posting
from ledger.verify import verify_program

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_built_books_verify():
    built = build_program(postings=2000, artists=40, pending=5, seed=3)
    assert built.postings == Posting.objects.filter(program=built.program).count() == 2000
    assert Entry.objects.filter(program=built.program).count() == 1000
    kinds = set(Entry.objects.filter(program=built.program).values_list("kind", flat=True))
    assert kinds == {"acceptance", "payout", "reversal", "void"}
    assert Membership.objects.filter(program=built.program).count() == 40
    result = verify_program(built.program)
    assert result.ok, result.problems
    assert result.entries_checked == 1000
    per_account = dict(
        Posting.objects.filter(program=built.program)
        .values_list("account_id")
        .annotate(n=Count("entry_id", distinct=True))
        .order_by()
    )
    versions = dict(
        AccountBalance.objects.filter(program=built.program).values_list("account_id", "version")
    )
    assert versions == {a: per_account.get(a, 0) for a in versions}
    head = LedgerHead.objects.get(program=built.program)
    assert (head.seq, head.hash) == (1000, result.head_hash)
    # A second program in the same database chains and verifies on its own.
    second = build_program(postings=200, artists=10, seed=4, admin=built.admin)
    assert verify_program(second.program).ok
    assert verify_program(built.program).ok


def test_load_check_catches_an_unbalanced_entry():
    built = build_program(postings=20, artists=3, seed=5)
    check_loaded(built.program)
    leg = Posting.objects.filter(program=built.program).first()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "INSERT INTO ledger_posting (entry_id, program_id, account_id, amount_minor, currency) "
            "VALUES (%s, %s, %s, 1, %s)",
            [leg.entry_id, leg.program_id, leg.account_id, leg.currency],
        )
    with pytest.raises(LoadError, match="does not balance"):
        check_loaded(built.program)
    assert not verify_program(built.program).ok
