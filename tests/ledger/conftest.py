"""Fixtures of the ledger's tests."""

import secrets

import pytest

from ledger import ratelimit
from tests.ops.servers import redis_or_skip


@pytest.fixture(params=["database", "redis"])
def store(request, settings):
    """The store shared counts and positions live in: the database, or Redis (REDIS_URL)."""
    if request.param == "redis":
        settings.REDIS_URL = redis_or_skip()
        prefix = "test-" + secrets.token_hex(6)
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
        yield request.param
        client = ratelimit.shared_redis()
        keys = client.keys(f"{prefix}:*")
        if keys:
            client.delete(*keys)
    else:
        settings.REDIS_URL = ""
        yield request.param
