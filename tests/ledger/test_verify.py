"""verify_ledger: the chain, every balance and total recomputed from the postings."""

import io

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger.models import AccountBalance, LedgerHead, Membership
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
