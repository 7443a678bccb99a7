"""Rate limits per client, counted atomically across every process and server: the one home
of the count behind the API's throttles and the pages' limits.

A sliding log: a use is allowed while fewer than `limit` uses were allowed in the last
`window` seconds, and only allowed uses are kept, so a client that waits as long as it is told
(`Retry-After`: until its oldest counted use leaves the window) gets through. Exact in any
window, also across a minute's end, where a fixed window would allow the limit twice over.

Each check-and-count is ONE atomic step in a store every server shares, never a read and then
a write from two steps: a read-modify-write count (as DRF's own throttles keep: a history list
read from the cache and written back) lets requests that arrive together overwrite each
other's counts, so a burst over several workers gets more than the limit through. The store
is Redis when the deployment has it (a sorted set per client, changed by a Lua script, which
Redis runs atomically), otherwise the primary database (`accounts.RateUse`: one transaction
per check, holding a transaction-scoped lock on the client's key on PostgreSQL; SQLite
transactions take its one write lock). Clients are hashed: the store holds no addresses.
"""

import datetime as dt
import functools
import hashlib
import secrets
import time

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from ledger import routing

# KEYS: the client's sorted set (uses, scored by milliseconds since the epoch). ARGV: now (ms),
# the window (ms), the limit, a unique member. Returns {1, ''} when the use is allowed and
# counted, else {0, the oldest counted use (ms)}.
_HIT_LUA = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('PEXPIRE', KEYS[1], window)
    return {1, ''}
end
return {0, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
"""

# pg_advisory_xact_lock(class, key): the class keeps these locks apart from any other use.
_LOCK_CLASS = 7301


@functools.cache
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url)


def shared_redis():
    """The deployment's Redis (`REDIS_URL`), or None: where shared counts and positions live
    when there is one. A connection pool per process (what a Redis client is)."""
    return _redis_client(settings.REDIS_URL) if settings.REDIS_URL else None


def redis_key(key: str) -> str:
    """`key` behind the cache's prefix, so deployments sharing one Redis keep apart."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    return f"{prefix}:{key}" if prefix else key


def hit(scope: str, ident: str, limit: int, window: int) -> tuple[bool, float]:
    """One use of `scope` by `ident`, at most `limit` in any `window` seconds.

    Returns (allowed, seconds to wait before a use would be allowed: 0 when allowed).
    """
    now_ms = int(time.time() * 1000)
    window_ms = window * 1000
    key = f"ratelimit:{scope}:{hashlib.sha256(ident.encode()).hexdigest()[:32]}"
    redis = shared_redis()
    if redis is not None:
        allowed, oldest = redis.eval(
            _HIT_LUA,
            1,
            redis_key(key),
            now_ms,
            window_ms,
            limit,
            f"{now_ms}:{secrets.token_hex(6)}",
        )
        allowed, oldest = bool(allowed), (int(float(oldest)) if oldest else now_ms)
    else:
        allowed, oldest = _hit_in_database(key, now_ms, window_ms, limit)
    if allowed:
        return True, 0.0
    # Whole seconds until the oldest counted use has left the window (at least 1).
    return False, float(max(1, -(-(oldest + window_ms - now_ms) // 1000)))


def _hit_in_database(key: str, now_ms: int, window_ms: int, limit: int) -> tuple[bool, int]:
    primary = connections[routing.PRIMARY]
    with transaction.atomic(using=primary.alias), primary.cursor() as cursor:
        if primary.vendor == "postgresql":
            # One check of this client at a time; released at commit (PgBouncer-safe).
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, key])
        cursor.execute(
            "DELETE FROM accounts_rateuse WHERE key = %s AND at_ms <= %s",
            [key, now_ms - window_ms],
        )
        cursor.execute("SELECT COUNT(*), MIN(at_ms) FROM accounts_rateuse WHERE key = %s", [key])
        counted, oldest = cursor.fetchone()
        if counted >= limit:
            return False, int(oldest)
        expires_at = timezone.now() + dt.timedelta(milliseconds=window_ms)
        cursor.execute(
            "INSERT INTO accounts_rateuse (key, at_ms, expires_at) VALUES (%s, %s, %s)",
            [key, now_ms, expires_at],
        )
        return True, now_ms


def over_limit(scope: str, ident: str, limit: int, window: int = 3600) -> bool:
    """One use of `scope` by `ident`: True (and not counted) when `limit` uses were already
    allowed in the last `window` seconds."""
    return not hit(scope, ident, limit, window)[0]


def sweep() -> int:
    """Delete the database's uses that no window counts any more (of clients not seen again
    since); how many (scheduled)."""
    from accounts.models import RateUse

    return RateUse.objects.filter(expires_at__lt=timezone.now()).delete()[0]
