from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import money


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("325", "USD", 32500),
        ("325.5", "USD", 32550),
        ("325.50", "USD", 32550),
        ("0.01", "USD", 1),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("10000000000000", "USD", 10**15),
    ],
)
def test_parse_minor_accepts_plain_strings(text, currency, minor):
    assert money.parse_minor(text, currency) == minor


@pytest.mark.parametrize(
    "bad",
    [
        325,
        325.5,
        None,
        "",
        " 1",
        "1 ",
        "-1",
        "+1",
        "1e3",
        "NaN",
        "Infinity",
        "1.001",
        "0",
        "0.00",
        "1,5",
        ".5",
        "5.",
        "10000000000000.01",
        "١٢",
    ],
)
def test_parse_minor_refuses(bad):
    with pytest.raises(money.MoneyError):
        money.parse_minor(bad, "USD")


def test_zero_digit_currency_refuses_decimals():
    with pytest.raises(money.MoneyError, match="decimals"):
        money.parse_minor("500.5", "JPY")


def test_zero_allowed_when_asked():
    assert money.parse_minor("0", "USD", allow_zero=True) == 0


def test_unknown_currency():
    assert not money.is_currency("XXX")
    assert not money.is_currency("usd")
    with pytest.raises(money.MoneyError):
        money.parse_minor("1", "ABC")


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(32500, "USD", "325.00"), (500, "JPY", "500"), (-1, "USD", "-0.01"), (1234, "KWD", "1.234")],
)
def test_format_minor(minor, currency, text):
    assert money.format_minor(minor, currency) == text


@given(st.integers(min_value=1, max_value=10**15), st.sampled_from(["USD", "JPY", "KWD", "CLF"]))
def test_format_parse_round_trip(minor, currency):
    assert money.parse_minor(money.format_minor(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("text", "hours"),
    [("2.5", Decimal("2.50")), ("24", Decimal("24.00")), ("0.01", Decimal("0.01"))],
)
def test_parse_hours(text, hours):
    assert money.parse_hours(text) == hours


@pytest.mark.parametrize("bad", ["0", "24.01", "1.005", "-1", 2.5, "1e1", "NaN"])
def test_parse_hours_refuses(bad):
    with pytest.raises(money.MoneyError):
        money.parse_hours(bad)


def test_hours_times_rate_rounds_half_even_once():
    # 0.50 h x 1 minor = 0.5 → 0 (even); 1.50 h x 1 = 1.5 → 2; 2.50 h x 1 = 2.5 → 2.
    assert money.value_of_hours(Decimal("0.50"), 1) == 0
    assert money.value_of_hours(Decimal("1.50"), 1) == 2
    assert money.value_of_hours(Decimal("2.50"), 1) == 2
    # 1.25 h x 4501 = 5626.25 → 5626 (rounded once, not per step)
    assert money.value_of_hours(Decimal("1.25"), 4501) == 5626


def test_display_uses_currency_digits():
    assert money.display(123450, "USD") == "$1,234.50"
    assert money.display(500, "JPY") == "¥500"
    assert money.display(1234, "KWD").endswith("1.234")
