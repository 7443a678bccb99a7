"""Rate limits per client, counted atomically across every process and server: the one home
of the count behind the API's throttles and the pages' limits.

A sliding window, estimated from two fixed windows of `window` seconds (aligned to the epoch):
a use is allowed while (uses allowed in the previous window) × (the part of it still inside the
sliding window), rounded up, + (uses allowed in this window) is under the limit, and only
allowed uses are counted, so a client that waits as long as it is told gets through. Unlike a
plain fixed window, a client cannot spend the limit at the end of one window and again at the
start of the next; rounding up, never down, keeps even one use over the limit out.

Each check-and-count is ONE atomic step in a store every server shares, never read-then-write:
a read-modify-write count (as DRF's own throttles keep: a history list read from the cache and
written back) lets requests that arrive together overwrite each other's counts, so a burst over
several workers gets more than the limit through. The store is Redis when the deployment has
it (a Lua script, which Redis runs atomically), otherwise the database (`accounts.RateCounter`:
one INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING on the primary). Clients are hashed:
the store holds no addresses.
"""

import datetime as dt
import functools
import hashlib
import math
import time

from django.conf import settings
from django.db import connections
from django.utils import timezone

from ledger import routing

# Count one more use in this window's row unless the window already holds `allowed` uses
# (the limit less the previous window's weighted share): a row back means the use counts.
_COUNT_SQL = (
    "INSERT INTO accounts_ratecounter (key, count, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET count = accounts_ratecounter.count + 1 "
    "WHERE accounts_ratecounter.count < %s RETURNING count"
)

# KEYS: previous window, this window. ARGV: the previous window's weight (0..1), the limit,
# seconds to keep this window's count. Returns {1 if counted, this window's count}.
_COUNT_LUA = """
local previous = tonumber(redis.call('GET', KEYS[1]) or '0')
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if math.ceil(previous * tonumber(ARGV[1])) + current < tonumber(ARGV[2]) then
    current = redis.call('INCR', KEYS[2])
    redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
    return {1, current, previous}
end
return {0, current, previous}
"""


@functools.cache
def redis_client(url: str):
    """A connection pool per process (what a Redis client is); the counts live in Redis."""
    import redis

    return redis.Redis.from_url(url)


def hit(scope: str, ident: str, limit: int, window: int) -> tuple[bool, float]:
    """One use of `scope` by `ident`, at most `limit` per `window` seconds (sliding).

    Returns (allowed, seconds to wait before a use would be allowed: 0 when allowed).
    """
    now = time.time()
    index = int(now // window)
    into = now - index * window  # seconds into this window
    weight = (window - into) / window  # the previous window's share still inside the slide
    client = hashlib.sha256(ident.encode()).hexdigest()[:32]
    keys = [f"ratelimit:{scope}:{client}:{window}:{i}" for i in (index - 1, index)]
    keep = 2 * window + 60  # seconds: a window's count is read again as the previous one
    if settings.REDIS_URL:
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        redis_keys = [f"{prefix}:{key}" if prefix else key for key in keys]
        allowed, current, previous = redis_client(settings.REDIS_URL).eval(
            _COUNT_LUA, 2, *redis_keys, repr(weight), limit, keep
        )
        allowed, current, previous = bool(allowed), int(current), int(previous)
    else:
        allowed, current, previous = _count_in_database(keys, weight, limit, keep)
    if allowed:
        return True, 0.0
    return False, _wait(previous, current, limit, window, into)


def _count_in_database(keys, weight, limit, keep) -> tuple[bool, int, int]:
    expires_at = timezone.now() + dt.timedelta(seconds=keep)
    with connections[routing.PRIMARY].cursor() as cursor:
        cursor.execute("SELECT key, count FROM accounts_ratecounter WHERE key IN (%s, %s)", keys)
        counts = dict(cursor.fetchall())
        previous = counts.get(keys[0], 0)
        room = limit - math.ceil(previous * weight)  # uses this window may still hold
        if room > 0:
            cursor.execute(_COUNT_SQL, [keys[1], expires_at, room])
            row = cursor.fetchone()
            if row is not None:
                return True, int(row[0]), previous
        return False, max(counts.get(keys[1], 0), room), previous


def _wait(previous: int, current: int, limit: int, window: int, into: float) -> float:
    """Seconds until a use is allowed: while this window holds fewer than `limit` uses, until
    the previous window's share has shrunk enough; otherwise until this window, become the
    previous one, has shrunk below the limit."""
    if current < limit and previous:
        # ceil(previous × (window − t) / window) + current < limit, for t seconds into it
        boundary = window * (1 - (limit - current - 1) / previous) - into
    else:
        boundary = window - into + window * max(0.0, 1 - (limit - 1) / max(current, 1))
    return float(math.floor(boundary) + 1)  # whole seconds, past the boundary


def over_limit(scope: str, ident: str, limit: int, window: int = 3600) -> bool:
    """One use of `scope` by `ident`: True (and not counted) when it is over `limit` uses in
    the sliding window of `window` seconds."""
    return not hit(scope, ident, limit, window)[0]


def sweep() -> int:
    """Delete the database's counts that no window reads any more; how many (scheduled)."""
    from accounts.models import RateCounter

    return RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()[0]
