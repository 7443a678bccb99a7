"""Money: ISO 4217 currencies, exact parsing, quantizing and formatting.

Amounts live in the database and in memory as integers of the currency's minor unit
(cents for USD, yen for JPY, fils for KWD). Only at the edges are they turned into
strings: parsed with an explicit pattern (never via float, never accepting exponents or
NaN), and rendered with exactly the currency's minor digits.
"""

import re
from decimal import ROUND_HALF_EVEN, Decimal

# Active ISO 4217 codes and their minor-unit exponent. The list is the published standard
# (2024 amendment), without funds codes, precious metals and testing codes, which have no
# minor unit or are not money anyone is paid in.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR "
    "ZMW ZWG"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    **{code: 2 for code in _TWO.split()},
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
}
CURRENCY_CHOICES = sorted((code, code) for code in CURRENCY_EXPONENTS)

# The largest amount accepted anywhere, in minor units (API contract: above 10^15 → 400).
MAX_MINOR = 10**15

_AMOUNT_RE = re.compile(r"^(?P<int>[0-9]{1,20})(?:\.(?P<frac>[0-9]+))?$")  # ASCII digits only


class MoneyError(ValueError):
    """An amount string that is not money in the given currency; the message says why."""


def exponent(currency: str) -> int:
    """Minor-unit digits of an ISO 4217 currency (2 for USD, 0 for JPY, 3 for KWD)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code.") from None


def is_currency(code: object) -> bool:
    return isinstance(code, str) and code in CURRENCY_EXPONENTS


def parse_decimal_string(
    value: object, *, places: int, allow_zero: bool = False, what: str = "amount"
) -> tuple[int, int]:
    """Parse a plain decimal string with at most `places` fraction digits.

    Returns (integer part, fraction as an integer of exactly `places` digits). Refuses
    anything but a JSON/form string of digits: numbers (they may have been floats on the
    way), signs, exponents, NaN, infinities, spaces and more digits than allowed.
    """
    if not isinstance(value, str):
        raise MoneyError(f'Give the {what} as a string such as "12.50", not a number.')
    match = _AMOUNT_RE.match(value)
    if match is None:
        if value.strip().startswith("-"):
            raise MoneyError(f"The {what} must be positive.")
        raise MoneyError(f'{value[:40]!r} is not a plain decimal {what} like "12.50".')
    frac = match.group("frac") or ""
    if len(frac) > places:
        if places == 0:
            raise MoneyError(f"The {what} may not have decimals here.")
        raise MoneyError(f"The {what} may have at most {places} decimal places.")
    whole = int(match.group("int"))
    fraction = int(frac.ljust(places, "0")) if places else 0
    if whole == 0 and fraction == 0 and not allow_zero:
        raise MoneyError(f"The {what} must be greater than zero.")
    return whole, fraction


def parse_minor(value: object, currency: str, *, allow_zero: bool = False) -> int:
    """Parse a money string in `currency` to integer minor units ("12.5" USD → 1250)."""
    places = exponent(currency)
    whole, fraction = parse_decimal_string(value, places=places, allow_zero=allow_zero)
    minor = whole * 10**places + fraction
    if minor > MAX_MINOR:
        raise MoneyError("The amount is too large (at most 10^15 minor units).")
    return minor


def parse_hours(value: object) -> Decimal:
    """Parse hours: a string, > 0, at most 24, at most 2 decimals ("2.5" → Decimal("2.50"))."""
    whole, fraction = parse_decimal_string(value, places=2, what="hours")
    hours = Decimal(whole) + Decimal(fraction) / 100
    if hours > 24:
        raise MoneyError("Hours may be at most 24 for one contribution.")
    return hours.quantize(Decimal("0.01"))


def format_minor(minor: int, currency: str) -> str:
    """Render minor units with the currency's digits: 1250 USD → "12.50", 500 JPY → "500"."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(int(minor)), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def format_hours(hours: Decimal | None) -> str | None:
    return None if hours is None else str(Decimal(hours).quantize(Decimal("0.01")))


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units (for Babel and exports)."""
    return Decimal(format_minor(minor, currency))


def value_of_hours(hours: Decimal, rate_minor: int) -> int:
    """Value of `hours` at an hourly rate in minor units, rounded once, ROUND_HALF_EVEN."""
    return int(
        (Decimal(hours) * Decimal(rate_minor)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    )


def display(minor: int, currency: str, locale: str = "en_US") -> str:
    """Human formatting with the currency sign, via Babel ("$1,234.50", "¥500", "KWD1.234").

    Always exactly the currency's ISO 4217 minor digits: Babel's locale pattern alone would
    show "¥500.00", and its own currency data differs from ISO 4217 for a few currencies.
    """
    import copy

    from babel import Locale
    from babel.numbers import parse_pattern

    loc = Locale.parse(locale)
    pattern = copy.copy(parse_pattern(loc.currency_formats["standard"]))
    places = exponent(currency)
    pattern.frac_prec = (places, places)
    return pattern.apply(to_decimal(minor, currency), loc, currency=currency, currency_digits=False)
