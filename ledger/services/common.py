"""Small checks shared by the services."""

import datetime as dt
import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ledger import clock
from ledger.errors import ValidationFailed

# The furthest-ahead time zone is UTC+14: a date up to "today" there is nobody's future.
_LATEST_OFFSET = dt.timedelta(hours=14)


def latest_today() -> dt.date:
    """The latest calendar date that is "today" somewhere on Earth."""
    return (clock.now().astimezone(dt.UTC) + _LATEST_OFFSET).date()


def today() -> dt.date:
    return clock.today()


# Characters that show nothing: controls (Cc), format characters such as the zero-width
# space and the bidi marks (Cf), separators (Zs, Zl, Zp), unassigned (Cn); and the fillers
# Unicode classes as letters but renders blank (Hangul fillers, the braille blank).
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cn", "Zs", "Zl", "Zp"}
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
# Combining marks (Mn, Me: the grapheme joiner, variation selectors, accents) show only on a
# visible character; text made of them and the above alone shows nothing to read.
_MARK_CATEGORIES = {"Mn", "Me"}


def is_blank(text: str | None) -> bool:
    """True when `text` shows nothing: empty, whitespace, invisible characters or combining
    marks with no visible character to sit on."""
    return all(
        unicodedata.category(ch) in _INVISIBLE_CATEGORIES | _MARK_CATEGORIES or ch in _BLANK_LETTERS
        for ch in text or ""
    )


def require_text(text: str | None, field: str, message: str) -> str:
    """A required text field, stripped; blank or invisible-only text fails naming `field`."""
    text = (text or "").strip()
    if is_blank(text):
        raise ValidationFailed(message, field=field)
    return text


def require_reason(reason: str, field: str = "reason") -> str:
    reason = require_text(reason, field, "A reason is required.")
    if len(reason) > 10_000:
        raise ValidationFailed("At most 10,000 characters.", field=field)
    return reason


def require_not_future(day: dt.date, field: str) -> None:
    if day > latest_today():
        raise ValidationFailed("This date is in the future.", field=field)


def earliest_date() -> dt.date:
    """The earliest date the ledger accepts (setting LEDGER_EARLIEST_DATE, ISO 8601)."""
    return dt.date.fromisoformat(settings.LEDGER_EARLIEST_DATE)


def require_not_too_early(day: dt.date | None, field: str) -> None:
    """Dates before the floor are typing slips (year 0001, 0202), not history: refused.

    The one home for the floor, for writes (work, payouts, rate cards) and read filters alike.
    """
    if day is not None and day < earliest_date():
        raise ValidationFailed(
            f"This date is before {earliest_date().isoformat()}, the earliest the ledger accepts.",
            field=field,
        )


def require_plausible_date(day: dt.date, field: str) -> None:
    """A date of something that happened: not before the floor, not in the future."""
    require_not_too_early(day, field)
    require_not_future(day, field)


# A URL scheme at the start, as a browser reads it: letters then letters, digits, + - .
# before a colon, after the leading controls and spaces a browser would skip.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_WEB_SCHEMES = {"http", "https"}
_web_url = URLValidator(schemes=sorted(_WEB_SCHEMES))


def is_web_url(text: str | None) -> bool:
    """True when `text` is an absolute http(s) URL: the only references shown as links."""
    if not text or urlsplit(text).scheme.lower() not in _WEB_SCHEMES:
        return False
    try:
        _web_url(text)
    except ValidationError:
        return False
    return True


def check_reference(reference: str | None, field: str = "reference") -> str:
    """A reference is plain text (an issue key such as BUG-123) or an http(s) URL.

    Anything that starts with another URL scheme (javascript:, data:, file:, …) is refused,
    whatever the page does with it later; an http(s) value must be a well-formed URL.
    """
    reference = (reference or "").strip()
    # Browsers drop tabs and newlines inside a URL and skip leading controls and spaces.
    squeezed = re.sub(r"[\t\n\r]", "", reference).lstrip("".join(map(chr, range(0x21))))
    match = _SCHEME.match(squeezed)
    if match is None:
        return reference
    if match.group()[:-1].lower() not in _WEB_SCHEMES:
        raise ValidationFailed(
            "A reference is plain text (such as BUG-123) or an http(s) link; "
            f"“{match.group()}” links are not accepted.",
            field=field,
        )
    if not is_web_url(reference):
        raise ValidationFailed("Enter a valid http(s) URL.", field=field)
    return reference
