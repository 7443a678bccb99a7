"""The cache every process shares: throttle counts are one per deployment, not per worker."""

import json
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from accounts.models import RateCounter
from tests.factories import PASSWORD, UserFactory
from tests.ops.helpers import database_url, production_env, settings_of
from tests.ops.servers import gunicorn, redis_or_skip, request

LIMIT = 4  # token creations per minute per client address, for this test
BURST = 24  # requests sent at once


def _alternate_token_requests(servers, count):
    body = json.dumps({"username": "throttled", "password": PASSWORD}).encode()
    statuses = []
    for number in range(count):
        status, headers, _ = request(
            "POST",
            f"{servers[number % 2]}/api/v1/auth/tokens/",
            body,
            **{"Content-Type": "application/json"},
        )
        statuses.append(status)
        if status == 429:
            assert int(headers["Retry-After"]) > 0
    return statuses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_one_token_throttle_across_two_servers(backend):
    """Two gunicorns on one database, requests alternating between them: the first 429
    arrives right after the limit (a per-process count would allow twice the limit)."""
    extra = {}
    prefix = ""
    if backend == "redis":
        prefix = "test-" + secrets.token_hex(6)  # apart from anything else in that Redis
        extra = {"REDIS_URL": redis_or_skip(), "LEDGER_CACHE_KEY_PREFIX": prefix}
    UserFactory(username="throttled")
    env = production_env(
        DATABASE_URL=database_url(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        LEDGER_THROTTLE_TOKEN_CREATE=f"{LIMIT}/min",
        **extra,
    )
    with gunicorn(env) as first, gunicorn(env) as second:
        statuses = _alternate_token_requests([first, second], LIMIT + 2)
    assert statuses == [201] * LIMIT + [429, 429]
    if backend == "redis":
        client = redis.Redis.from_url(extra["REDIS_URL"])
        keys = client.keys(f"{prefix}:ratelimit:token_create:*")
        assert keys, "the throttle did not count in Redis"
        client.delete(*keys)
    else:  # the database holds the count, of a hashed address
        (counter,) = RateCounter.objects.filter(key__startswith="ratelimit:token_create:")
        assert counter.count == LIMIT and "127.0.0.1" not in counter.key


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
        LEDGER_THROTTLE_TOKEN_CREATE=f"{LIMIT}/min",
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
