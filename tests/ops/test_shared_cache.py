"""The cache every process shares: throttle counts are one per deployment, not per worker."""

import hashlib
import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from accounts.models import RateUse
from tests.factories import PASSWORD, UserFactory
from tests.ops.helpers import database_url, production_env, settings_of
from tests.ops.servers import gunicorn, redis_or_skip, request

LIMIT = 4  # token creations per client address, for this test
# Per hour, not per minute: the limiter's sliding window is estimated from fixed windows aligned
# to the clock (ledger/ratelimit.py), and a test that straddles a boundary may see one more
# through (the previous window's share is rounded down): up to 1 run in 20 with a minute's
# window and a few seconds of requests, 1 in 1,000 with an hour's.
RATE = f"{LIMIT}/hour"
BURST = 24  # requests sent at once


def hashed(address):
    """A client's token-creation count as ledger.ratelimit keys it: a hash of the throttle's
    key (DRF's "throttle_<scope>_<ident>"), so the store holds no addresses."""
    return hashlib.sha256(f"throttle_token_create_{address}".encode()).hexdigest()[:32]


def _token_request(server, **headers):
    body = json.dumps({"username": "throttled", "password": PASSWORD}).encode()
    status, response_headers, _ = request(
        "POST", f"{server}/api/v1/auth/tokens/", body, **{"Content-Type": "application/json"},
        **headers,
    )  # fmt: skip
    if status == 429:
        assert int(response_headers["Retry-After"]) > 0
    return status


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("backend", "proxies"), [("database", 0), ("redis", 1)])
def test_one_token_throttle_across_two_servers(backend, proxies):
    """Two gunicorns on one database, requests alternating between them: the first 429
    arrives right after the limit (a per-process count would allow twice the limit). On Redis
    they run as bench/scale.py runs them behind its load balancer: one trusted proxy
    (DJANGO_NUM_PROXIES=1) that appends the client's address to X-Forwarded-For, so the count
    is the client's across servers, and another client behind the same balancer keeps its own
    allowance instead of sharing the balancer's."""
    extra = {"DJANGO_NUM_PROXIES": str(proxies)}
    prefix = ""
    if backend == "redis":
        prefix = "test-" + secrets.token_hex(6)  # apart from anything else in that Redis
        extra |= {"REDIS_URL": redis_or_skip(), "LEDGER_CACHE_KEY_PREFIX": prefix}
    client = {"X-Forwarded-For": "203.0.113.7"} if proxies else {}
    UserFactory(username="throttled")
    env = production_env(
        DATABASE_URL=database_url(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        LEDGER_THROTTLE_TOKEN_CREATE=RATE,
        **extra,
    )
    with gunicorn(env) as first, gunicorn(env) as second:
        servers = [first, second]
        statuses = [_token_request(servers[n % 2], **client) for n in range(LIMIT + 2)]
        if proxies:
            other = _token_request(second, **{"X-Forwarded-For": "198.51.100.20"})
    assert statuses == [201] * LIMIT + [429, 429]
    if proxies:
        assert other == 201
    ident = "203.0.113.7" if proxies else "127.0.0.1"  # whose count it is (never stored)
    if backend == "redis":
        store = redis.Redis.from_url(extra["REDIS_URL"])
        keys = store.keys(f"{prefix}:ratelimit:token_create:*")
        assert keys, "the throttle did not count in Redis"
        assert any(hashed(ident) in key.decode() for key in keys), keys
        store.delete(*keys)
    else:  # the database holds the uses, of a hashed address
        counted = RateUse.objects.filter(key__startswith="ratelimit:token_create:")
        assert {use.key for use in counted} == {f"ratelimit:token_create:{hashed(ident)}"}
        assert counted.count() == LIMIT


def test_redis_url_selects_the_redis_cache():
    url = redis_or_skip()
    configured = settings_of(production_env(REDIS_URL=url), ["CACHES"])["CACHES"]["default"]
    assert configured["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert configured["LOCATION"] == url
    default = settings_of(production_env(), ["CACHES"])["CACHES"]["default"]
    assert default["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


def test_the_redis_cache_answers():
    url = redis_or_skip()
    prefix = "test-" + secrets.token_hex(6)
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
    }
    with override_settings(CACHES={"default": config}):
        caches["default"].set("probe", [1, 2], 30)
        assert redis.Redis.from_url(url).exists(f"{prefix}:1:probe")
        assert caches["default"].get("probe") == [1, 2]
        caches["default"].delete("probe")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_a_burst_across_two_servers_gets_exactly_the_limit(backend):
    """Token requests all at once, spread over two servers of three workers each: exactly
    the limit succeed. A read-then-write count (each request reads the history, then writes
    it back with itself added) lets concurrent requests overwrite each other's counts."""
    extra = {}
    if backend == "redis":
        extra = {
            "REDIS_URL": redis_or_skip(),
            "LEDGER_CACHE_KEY_PREFIX": "test-" + secrets.token_hex(6),
        }
    UserFactory(username="throttled")
    env = production_env(
        DATABASE_URL=database_url(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        LEDGER_THROTTLE_TOKEN_CREATE=RATE,
        **extra,
    )
    body = json.dumps({"username": "throttled", "password": PASSWORD}).encode()
    with gunicorn(env, workers=3) as first, gunicorn(env, workers=3) as second:
        servers = [first, second]
        start = threading.Barrier(BURST)

        def one(number):
            start.wait()
            return request(
                "POST",
                f"{servers[number % 2]}/api/v1/auth/tokens/",
                body,
                **{"Content-Type": "application/json"},
            )[0]

        with ThreadPoolExecutor(BURST) as pool:
            statuses = sorted(pool.map(one, range(BURST)))
    assert statuses == [201] * LIMIT + [429] * (BURST - LIMIT)
