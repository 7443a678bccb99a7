"""Ids and counts from a request (query string, form field, JSON value, cursor): parsed here only.

Why a module of its own: Python's `str.isdigit()` is true for "²" and `int()` accepts "١٢",
" 7 ", "1_000" and numbers far beyond a database integer, so each hand-rolled check let a
different value through to a query that then failed (a 500). An id is ASCII digits only, at
least 1, and fits the database's signed 64-bit integer (bigint primary keys); anything else is
"no such object" (None), never an exception. Pages, forms and the API all call `parse_id`.
"""

import re

# Largest value of a signed 64-bit integer: PostgreSQL bigint and SQLite INTEGER.
MAX_ID = 2**63 - 1

# ASCII only ([0-9], not \d, which matches every script's digits), no sign, no spaces.
# 19 digits is the longest a value up to MAX_ID can be; longer strings are refused unparsed.
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(value) -> int | None:
    """`value` (str or int) as an id, or None when it is not one (bad shape, < 1, > MAX_ID)."""
    if isinstance(value, bool):  # True is an int to Python, never an id
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def parse_positive(value, *, maximum: int = MAX_ID) -> int | None:
    """A positive count from a request (a page number, a page size): `parse_id`'s rules, with
    an optional smaller ceiling; None when absent or malformed."""
    number = parse_id(value)
    return number if number is not None and number <= maximum else None
