"""Run the outside tools on an exported journal and read their balances back as minor units."""

import csv
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ledger.models import AccountBalance

HLEDGER = shutil.which("hledger")
needs_hledger = pytest.mark.skipif(HLEDGER is None, reason="hledger is not installed")


def to_minor(text: str, places: int) -> int:
    """ "-12.50" with 2 places → -1250, exactly (no float)."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    assert len(frac) <= places, text
    return sign * (int(whole or 0) * 10**places + int(frac.ljust(places, "0") or 0))


def app_balances(program) -> dict[str, int]:
    return dict(
        AccountBalance.objects.filter(program=program).values_list("account__code", "balance_minor")
    )


class ToolRejected(Exception):
    pass


def hledger_balances(text: str, places: int, currency: str) -> dict[str, int]:
    """`hledger --strict bal` (assertions checked); raises ToolRejected with its error text."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.journal"
        path.write_text(text, encoding="utf-8")
        check = subprocess.run(
            [HLEDGER, "-f", str(path), "check", "--strict"], capture_output=True, text=True
        )
        if check.returncode:
            raise ToolRejected(check.stderr)
        bal = subprocess.run(
            [HLEDGER, "-f", str(path), "bal", "--flat", "-E", "-O", "csv", "--strict"],
            capture_output=True,
            text=True,
        )
        if bal.returncode:
            raise ToolRejected(bal.stderr)
    result = {}
    for row in csv.DictReader(io.StringIO(bal.stdout)):
        if row["account"] == "total":
            continue
        amount = row["balance"].strip()
        if amount != "0":
            number, _, commodity = amount.partition(" ")
            assert commodity == currency, amount
            amount = number
        result[row["account"]] = to_minor(amount, places)
    return result


def beancount_balances(text: str, places: int, currency: str) -> dict[str, int]:
    """Load with beancount (all checks, balance directives included) and realize balances."""
    from beancount import loader
    from beancount.core import realization

    entries, errors, _options = loader.load_string(text)
    if errors:
        raise ToolRejected("\n".join(str(error.message) for error in errors))
    real = realization.realize(entries)
    result = {}
    for account in realization.iter_children(real, leaf_only=True):
        if not account.account:
            continue
        positions = list(account.balance)
        assert all(p.units.currency == currency for p in positions)
        total = sum((p.units.number for p in positions), start=0)
        result[account.account] = to_minor(f"{total:f}", places) if total else 0
    return result


def bean_check(text: str) -> subprocess.CompletedProcess:
    """The `bean-check` command itself on the text."""
    bean = Path(sys.executable).parent / "bean-check"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.beancount"
        path.write_text(text, encoding="utf-8")
        return subprocess.run([str(bean), str(path)], capture_output=True, text=True)
