"""The services' clock: real time, or a fixed moment inside `frozen()` (demo data, tests).

Services ask this module for "now" so seeded history and tests can place events in the past
without patching Django.
"""

import contextlib
import datetime as dt
from contextvars import ContextVar

from django.utils import timezone

_frozen: ContextVar[dt.datetime | None] = ContextVar("ledger_clock", default=None)


def now() -> dt.datetime:
    return _frozen.get() or timezone.now()


def today() -> dt.date:
    return now().astimezone(dt.UTC).date()


@contextlib.contextmanager
def frozen(moment: dt.datetime):
    """Within the block, `now()` is `moment` (an aware datetime)."""
    token = _frozen.set(moment)
    try:
        yield moment
    finally:
        _frozen.reset(token)
