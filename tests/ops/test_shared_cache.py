"""The cache every process shares: throttle counts are one per deployment, not per worker."""

import json
import secrets

import pytest
import redis
from django.core.cache import cache, caches
from django.test import override_settings

from tests.factories import PASSWORD, UserFactory
from tests.ops.helpers import database_url, production_env, settings_of
from tests.ops.servers import gunicorn, redis_or_skip, request

LIMIT = 4  # token creations per minute per client address, for this test


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
        LEDGER_THROTTLE_TOKEN_CREATE=f"{LIMIT}/min",
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
    ident = "203.0.113.7" if proxies else "127.0.0.1"  # whose count it is
    if backend == "redis":
        store = redis.Redis.from_url(extra["REDIS_URL"])
        keys = store.keys(f"{prefix}:*throttle_token_create_*")
        assert any(key.decode().endswith(ident) for key in keys), keys
        store.delete(*keys)
    else:
        assert cache.get(f"throttle_token_create_{ident}")  # the database table holds it


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
