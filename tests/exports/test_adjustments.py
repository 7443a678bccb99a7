"""Adjustments (upheld valuation disputes) in every export: hledger and bean-check accept the
journals and agree with the app's balances; the statement CSV and PDF show the line."""

from decimal import Decimal

import pytest

from ledger import queries, services
from ledger.exports.csv import statement_csv
from ledger.exports.journal import stream_journal
from ledger.exports.pdf import statement_pdf
from ledger.models import Entry
from ledger.money import exponent
from ledger.verify import verify_program
from tests.conftest import accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory

from .tools import app_balances, bean_check, beancount_balances, hledger_balances, needs_hledger

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(admin, artist):
    """A JPY program (no minor digits) with adjusted, adjusted-then-reversed and rejected-then-
    accepted work, and a payout voided by an upheld non-receipt dispute."""
    program = make_program(admin, currency="JPY", hourly="3333")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    decider = UserFactory(username="decider")
    for role in ("reviewer", "treasurer"):
        services.grant_role(actor=admin, program=program, user=decider, role=role)

    def dispute(subject, claim):
        return services.open_dispute(actor=artist, subject=subject, claim=claim, statement="No.")

    work = accepted_work(program, artist, admin, hours="1.50")
    services.uphold_dispute(
        dispute=dispute(work, "valuation"), actor=decider, note="More.", hours=Decimal("2.75")
    )
    reversed_work = accepted_work(program, artist, admin, hours="1.00")
    services.uphold_dispute(
        dispute=dispute(reversed_work, "valuation"), actor=decider, note="x", hours=Decimal(2)
    )
    services.reverse_contribution(contribution=reversed_work, actor=admin, reason="Duplicate")
    bug = services.accept_contribution(contribution=log_bug(program, artist, "low"), actor=admin)
    services.uphold_dispute(
        dispute=dispute(bug, "valuation"), actor=decider, note="x", severity="critical"
    )
    rejected = services.reject_contribution(
        contribution=log_feedback(program, artist), actor=admin, reason="No"
    )
    services.uphold_dispute(dispute=dispute(rejected, "rejection"), actor=decider, note="Yes")
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
    )
    services.uphold_dispute(dispute=dispute(payout, "not_received"), actor=decider, note="Lost")
    assert Entry.objects.filter(program=program, kind="adjustment").count() == 3
    assert verify_program(program).ok
    return program


def _journal(program, fmt):
    return "".join(stream_journal(program, fmt, chunk_size=3))


@needs_hledger
def test_hledger_accepts_a_journal_with_adjustments_and_agrees(disputed):
    text = _journal(disputed, "hledger")
    assert text.count("kind:adjustment") == 3
    for entry in Entry.objects.filter(program=disputed, kind="adjustment"):
        assert f"kind:adjustment, hash:{entry.hash}, adjusts:{entry.adjusts.seq}, " in text
        assert f"dispute:{entry.dispute_id}\n" in text
    cur = disputed.currency
    assert hledger_balances(text, exponent(cur), cur) == app_balances(disputed)


def test_bean_check_accepts_a_journal_with_adjustments_and_agrees(disputed):
    text = _journal(disputed, "beancount")
    result = bean_check(text)
    assert result.returncode == 0, result.stdout + result.stderr
    for entry in Entry.objects.filter(program=disputed, kind="adjustment"):
        assert (
            f'  kind: "adjustment"\n  hash: "{entry.hash}"\n  adjusts: {entry.adjusts.seq}\n'
            in text
        )
    cur = disputed.currency
    assert beancount_balances(text, exponent(cur), cur) == app_balances(disputed)


def test_statement_exports_show_the_adjustment_as_valued_work(disputed, artist):
    statement = queries.statement(artist=artist, program=disputed)
    adjustments = [line for line in statement.lines if line.kind == "adjustment"]
    assert len(adjustments) == 3 and all(line.amount_minor > 0 for line in adjustments)
    text = "".join(statement_csv(statement))
    assert text.count(",adjustment,") == 3
    assert statement_pdf(statement)[:4] == b"%PDF"
