"""A fixed-window counter in the shared cache, for pages that must not be hammered (the
"forgot password" form). The API's throttles are DRF's; the login's lockout is django-axes."""

import hashlib

from django.core.cache import cache


def over_limit(scope: str, ident: str, limit: int, window: int = 3600) -> bool:
    """Count one more use of `scope` by `ident` in the current window of `window` seconds;
    True once more than `limit` uses were counted. `ident` is hashed: the cache holds no
    addresses."""
    key = f"ratelimit:{scope}:{hashlib.sha256(ident.encode()).hexdigest()}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit
