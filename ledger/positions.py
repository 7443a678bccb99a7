"""The highest WAL position each user and session must read back, shared by every server:
raised and read by `ledger.routing` (read-your-writes).

Raising is ONE atomic step keeping the higher value (a Lua script in Redis; one INSERT … ON
CONFLICT … DO UPDATE in the database, `accounts.WritePosition`), never a read followed by a
write: two requests of one user finishing together could otherwise leave the lower position
stored last, and the user's next read would go to a replica that has not replayed the later
write. Redis when the deployment has it (`REDIS_URL`), else the primary database.
"""

import datetime as dt

from django.db import connections
from django.utils import timezone

from ledger import routing
from ledger.ratelimit import redis_key, shared_redis

# KEYS: the keys to raise. ARGV: the position, seconds to keep it.
_RAISE_LUA = """
for _, key in ipairs(KEYS) do
    local known = tonumber(redis.call('GET', key) or '0')
    local position = tonumber(ARGV[1])
    if position > known then
        redis.call('SET', key, ARGV[1], 'EX', tonumber(ARGV[2]))
    else
        redis.call('EXPIRE', key, tonumber(ARGV[2]))
    end
end
return 0
"""

_RAISE_SQL = (
    "INSERT INTO accounts_writeposition (key, position, expires_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, position = CASE "
    "WHEN excluded.position > accounts_writeposition.position THEN excluded.position "
    "ELSE accounts_writeposition.position END"
)


def _redis_keys(keys: list[str]) -> list[str]:
    return [redis_key(f"read-your-writes:{key}") for key in keys]


def raise_to(keys: list[str], position: int, seconds: int) -> None:
    """Make each of `keys` hold at least `position` (bytes of WAL), for `seconds`."""
    if not keys:
        return
    redis = shared_redis()
    if redis is not None:
        redis.eval(_RAISE_LUA, len(keys), *_redis_keys(keys), position, seconds)
        return
    expires_at = timezone.now() + dt.timedelta(seconds=seconds)
    with connections[routing.PRIMARY].cursor() as cursor:
        for key in keys:
            cursor.execute(_RAISE_SQL, [key, position, expires_at])


def highest(keys: list[str]) -> int:
    """The highest position any of `keys` holds (0: none kept)."""
    if not keys:
        return 0
    redis = shared_redis()
    if redis is not None:
        values = redis.mget(_redis_keys(keys))
        return max((int(value) for value in values if value is not None), default=0)
    in_list = ", ".join(["%s"] * len(keys))  # placeholders only
    with connections[routing.PRIMARY].cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(position) FROM accounts_writeposition WHERE key IN ({in_list}) "  # noqa: S608  # nosec B608
            "AND expires_at > %s",
            [*keys, timezone.now()],
        )
        (found,) = cursor.fetchone()
    return int(found or 0)


def sweep() -> int:
    """Delete the database's positions no request needs any more; how many (scheduled)."""
    from accounts.models import WritePosition

    return WritePosition.objects.filter(expires_at__lt=timezone.now()).delete()[0]
