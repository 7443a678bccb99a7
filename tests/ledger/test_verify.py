"""verify_ledger: the chain, every balance and total recomputed from the postings."""

import io
import threading

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import services, verify
from ledger.models import AccountBalance, Entry, LedgerHead, Membership
from ledger.verify import verify_program
from tests.conftest import accepted_work

pytestmark = pytest.mark.django_db


def test_verify_detects_tampered_balance_row(admin, program, artist):
    accepted_work(program, artist, admin)
    assert verify_program(program).ok
    AccountBalance.objects.filter(account__artist=artist).update(balance_minor=-1)
    result = verify_program(program)
    assert not result.ok
    assert any("balance row" in problem for problem in result.problems)


def test_verify_detects_tampered_membership_totals(admin, program, artist):
    accepted_work(program, artist, admin)
    Membership.objects.filter(artist=artist).update(valued_minor=1)
    assert not verify_program(program).ok


@pytest.mark.postgres
def test_verify_detects_a_posting_changed_behind_the_apps_back(admin, program, artist):
    accepted_work(program, artist, admin)
    accepted_work(program, artist, admin)
    # A DBA bypasses the append-only triggers and doubles both legs of the first entry, so
    # the entry still balances and the database's own balance check is satisfied.
    with pgtrigger.ignore(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_posting SET amount_minor = amount_minor * 2 WHERE entry_id = "
            "(SELECT min(id) FROM ledger_entry WHERE program_id = %s)",
            [program.pk],
        )
    result = verify_program(program)
    assert not result.ok
    assert "hash does not match" in result.problems[0]
    assert any("balance row" in problem for problem in result.problems)
    out = io.StringIO()
    with pytest.raises(CommandError, match="verification failed"):
        call_command("verify_ledger", stdout=out)
    assert "FAILED" in out.getvalue()


def test_hash_chain_links_entries(admin, program, artist):
    accepted_work(program, artist, admin)
    accepted_work(program, artist, admin)
    first, second = program.entries.order_by("seq")
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash
    assert LedgerHead.objects.get(program=program).hash == second.hash


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_check_while_postings_commit_sees_one_state(admin, program, artist, monkeypatch):
    """A payout committed after the check has walked the chain, before it reads the head and
    the balance rows: the check reads one snapshot, so it finds the books as they were when
    it began, whole, and reports nothing."""
    for _ in range(3):
        accepted_work(program, artist, admin)
    before = Entry.objects.filter(program=program).count()

    def pay():
        try:
            services.record_payout(
                actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
            )
        finally:
            connection.close()

    walk = verify.walk_chain

    def walk_then_pay(*args, **kwargs):
        yield from walk(*args, **kwargs)
        payer = threading.Thread(target=pay)
        payer.start()
        payer.join()

    monkeypatch.setattr(verify, "walk_chain", walk_then_pay)
    result = verify_program(program, chunk_size=1)
    assert result.problems == []
    assert result.entries_checked == before
    assert Entry.objects.filter(program=program).count() == before + 1  # it did commit
