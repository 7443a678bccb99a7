"""Rate limits, configured in settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

The client address comes from DRF's `get_ident`, which honours `NUM_PROXIES` (trusted
proxies; 0 by default, so X-Forwarded-For is ignored unless proxies are configured).
"""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ledger import ratelimit


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from the settings on each request (so overriding them takes effect),
    and counts with `ledger.ratelimit.hit`: one atomic step in the store every server
    shares, where DRF's own history list (read, then written back) loses the counts of
    requests that arrive together. A sliding window of the rate's period."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        allowed, self._wait = ratelimit.hit(self.scope, self.key, self.num_requests, self.duration)
        return allowed

    def wait(self):
        return self._wait  # seconds until the window ends


class WriteThrottle(SettingsRateThrottle):
    """Unsafe requests per authenticated user."""

    scope = "write"

    def get_cache_key(self, request, view):
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenCreationThrottle(SettingsRateThrottle):
    """Token creations (password checks) per client address."""

    scope = "token_create"

    def get_cache_key(self, request, view):
        if request.method != "POST":
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
