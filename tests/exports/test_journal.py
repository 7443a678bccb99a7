"""hledger and beancount exports, checked by the real tools against the app's balances."""

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import clock, services
from ledger.errors import DomainError
from ledger.exports.journal import check_account_name, stream_journal
from ledger.models import Account, Contribution, Entry, Payout
from ledger.money import exponent
from tests.conftest import make_program
from tests.factories import UserFactory

from .tools import (
    ToolRejected,
    app_balances,
    bean_check,
    beancount_balances,
    hledger_balances,
    needs_hledger,
)

TOOLS = {"hledger": hledger_balances, "beancount": beancount_balances}


def export(program, fmt) -> str:
    return "".join(stream_journal(program, fmt, chunk_size=7))


def tool_balances(program, fmt, text=None):
    text = export(program, fmt) if text is None else text
    cur = program.currency
    return TOOLS[fmt](text, exponent(cur), cur)


@needs_hledger
@pytest.mark.parametrize("fmt", ["hledger", "beancount"])
def test_demo_exports_are_accepted_and_balances_match(demo, fmt):
    for program in demo:
        balances = tool_balances(program, fmt)
        assert balances == app_balances(program)
        assert any(balances.values())


def test_bean_check_command_accepts_demo_export(demo):
    result = bean_check(export(demo[0], "beancount"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_entry_is_exported_with_seq_and_hash(demo):
    program = demo[0]
    text = export(program, "hledger")
    beancount = export(program, "beancount")
    for entry in Entry.objects.filter(program=program):
        assert f"; seq:{entry.seq}, kind:{entry.kind}, hash:{entry.hash}" in text
        assert f'hash: "{entry.hash}"' in beancount
    for account in Account.objects.filter(program=program):
        assert f"account {account.code}\n" in text
        assert re.search(rf"^\d{{4}}-\d\d-\d\d open {account.code} USD$", beancount, re.M)


def test_account_codes_are_valid_for_both_tools(demo):
    for code in Account.objects.values_list("code", flat=True):
        assert check_account_name(code) == code
    for bad in ["assets:cash", "Assets:cash p1", "Assets", "Cash:P1"]:
        with pytest.raises(ValueError):
            check_account_name(bad)


def _tamper_one_posting(text: str, fmt: str) -> str:
    """Add one minor unit to the first labor posting: the entry no longer balances."""
    indent = "    " if fmt == "hledger" else "  "
    pattern = re.compile(rf"^{indent}Expenses:Labor:P\d+  (\d+)\.(\d\d) USD$", re.M)
    match = pattern.search(text)
    new = f"{match.group(1)}.{int(match.group(2)) + 1:02d}"
    return text[: match.start(1)] + new + text[match.end(2) :]


def _tamper_balanced(text: str, fmt: str) -> str:
    """Move one cent between both legs of an entry: it still balances, but the assertions don't."""
    indent = "    " if fmt == "hledger" else "  "
    pattern = re.compile(
        rf"^({indent}Expenses:Labor:P\d+  )(\d+\.\d\d) USD\n"
        rf"({indent}Liabilities:\S+  )-(\d+\.\d\d) USD$",
        re.M,
    )
    match = pattern.search(text)
    plus = Decimal(match.group(2)) + Decimal("0.01")
    replaced = f"{match.group(1)}{plus} USD\n{match.group(3)}-{plus} USD"
    return text[: match.start()] + replaced + text[match.end() :]


@needs_hledger
@pytest.mark.parametrize("fmt", ["hledger", "beancount"])
@pytest.mark.parametrize("tamper", [_tamper_one_posting, _tamper_balanced])
def test_changed_amount_is_rejected(demo, fmt, tamper):
    program = demo[0]
    text = export(program, fmt)
    tool_balances(program, fmt, text)  # the genuine export passes
    changed = tamper(text, fmt)
    assert changed != text
    with pytest.raises(ToolRejected) as failure:
        tool_balances(program, fmt, changed)
    message = str(failure.value).lower()
    assert "balance" in message


@needs_hledger
def test_bean_check_command_rejects_tampered_export(demo):
    text = _tamper_balanced(export(demo[0], "beancount"), "beancount")
    result = bean_check(text)
    assert result.returncode != 0
    assert "Balance failed" in result.stdout + result.stderr


@needs_hledger
def test_memo_quotes_and_separators_are_escaped(db, admin, artist):
    program = make_program(admin)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    title = 'Say "hi" \\ to; the |team\nnow #ü 🎨'
    work = services.submit_contribution(
        actor=artist,
        program=program,
        kind="feedback",
        title=title,
        occurred_on=dt.date.today(),
        hours=Decimal("1.00"),
    )
    services.accept_contribution(contribution=work, actor=admin)
    beancount = export(program, "beancount")
    assert '* "Accepted feedback: Say \\"hi\\" \\\\ to; the |team now #ü 🎨"' in beancount
    assert beancount_balances(beancount, 2, "USD") == app_balances(program)
    hledger = export(program, "hledger")
    assert 'Accepted feedback: Say "hi" \\ to, the |team now #ü 🎨  ; seq:1,' in hledger
    assert hledger_balances(hledger, 2, "USD") == app_balances(program)


@needs_hledger
def test_empty_program_exports_zero_assertions(db, admin, artist):
    program = make_program(admin, currency="KWD")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    for fmt in TOOLS:
        assert tool_balances(program, fmt) == app_balances(program)
    assert "0.000 ~ 0 KWD" in export(program, "beancount")


def test_export_journal_command_writes_file(demo, tmp_path):
    target = tmp_path / "out.beancount"
    with clock.frozen(clock.now()):  # the header's export time, the same for both
        call_command(
            "export_journal",
            "--program",
            str(demo[1].pk),
            "--format",
            "beancount",
            "--output",
            target,
        )
        assert target.read_text(encoding="utf-8") == export(demo[1], "beancount")


def test_unknown_format_is_refused(db, admin):
    with pytest.raises(ValueError):
        next(stream_journal(make_program(admin), "ledger-cli"))


# --- random ledgers -------------------------------------------------------------------

_names = itertools.count()

step = st.one_of(
    st.tuples(st.just("feedback"), st.integers(0, 2), st.integers(1, 2400)),
    st.tuples(st.just("accept"), st.integers(0, 50)),
    st.tuples(st.just("bug"), st.integers(0, 2), st.sampled_from(["low", "medium", "high"])),
    st.tuples(st.just("accept"), st.integers(0, 50)),
    st.tuples(st.just("reject"), st.integers(0, 50)),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.sampled_from(["grant", "settlement"]), st.integers(0, 2), st.integers(1, 100_000)),
    st.tuples(st.just("void"), st.integers(0, 50)),
)


def _apply(program, admin, artists, steps):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=len(steps) + 10)
    for i, op in enumerate(steps):
        with clock.frozen(start + dt.timedelta(days=i)):
            today = clock.today()
            work = Contribution.objects.filter(program=program).order_by("id")
            pending = list(work.filter(status="submitted"))
            accepted = list(work.filter(status="accepted"))
            paid = list(Payout.objects.filter(program=program, status="paid").order_by("id"))
            try:
                match op:
                    case ("feedback", who, centi_hours):
                        services.submit_contribution(
                            actor=artists[who],
                            program=program,
                            kind="feedback",
                            title=f'Session "{i}"; notes',
                            occurred_on=today,
                            hours=Decimal(centi_hours) / 100,
                        )
                    case ("bug", who, severity):
                        services.submit_contribution(
                            actor=artists[who],
                            program=program,
                            kind="bug_report",
                            title=f"Bug {i}",
                            occurred_on=today,
                            severity=severity,
                        )
                    case ("accept", n) if pending:
                        c = pending[n % len(pending)]
                        services.accept_contribution(contribution=c, actor=admin)
                    case ("reject", n) if pending:
                        c = pending[n % len(pending)]
                        services.reject_contribution(contribution=c, actor=admin, reason="no")
                    case ("reverse", n) if accepted:
                        c = accepted[n % len(accepted)]
                        services.reverse_contribution(contribution=c, actor=admin, reason="x")
                    case ("grant" | "settlement", who, amount):
                        services.record_payout(
                            actor=admin,
                            artist=artists[who],
                            program=program,
                            amount_minor=amount,
                            kind=op[0],
                            paid_on=today - dt.timedelta(days=amount % 4),  # dates out of order
                        )
                    case ("void", n) if paid:
                        services.void_payout(payout=paid[n % len(paid)], actor=admin, reason="x")
            except DomainError:
                pass  # an invalid step (settling more than owed, reviewing twice…) is refused


@needs_hledger
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    currency=st.sampled_from(["USD", "JPY", "KWD"]), steps=st.lists(step, min_size=12, max_size=40)
)
def test_random_ledgers_export_and_balance_in_both_tools(db, currency, steps):
    n = next(_names)
    admin = UserFactory(username=f"hyp-admin-{n}", is_superuser=True)
    artists = [UserFactory(username=f"hyp-artist-{n}-{k}") for k in range(3)]
    program = make_program(admin, currency=currency, hourly="4567")
    for artist in artists:
        services.enroll_artist(actor=admin, program=program, artist=artist)
    _apply(program, admin, artists, steps)
    expected = app_balances(program)
    for fmt in TOOLS:
        assert tool_balances(program, fmt) == expected
