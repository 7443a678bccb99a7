"""Small checks shared by the services."""

import datetime as dt

from ledger import access, clock
from ledger.errors import NotAllowed, ValidationFailed

# The furthest-ahead time zone is UTC+14: a date up to "today" there is nobody's future.
_LATEST_OFFSET = dt.timedelta(hours=14)


def latest_today() -> dt.date:
    """The latest calendar date that is "today" somewhere on Earth."""
    return (clock.now().astimezone(dt.UTC) + _LATEST_OFFSET).date()


def today() -> dt.date:
    return clock.today()


def require_admin(actor) -> None:
    if not access.is_staff(actor):
        raise NotAllowed("Only an admin may do this.")


def require_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("A reason is required.", field=field)
    if len(reason) > 10_000:
        raise ValidationFailed("At most 10,000 characters.", field=field)
    return reason


def require_not_future(day: dt.date, field: str) -> None:
    if day > latest_today():
        raise ValidationFailed("This date is in the future.", field=field)
