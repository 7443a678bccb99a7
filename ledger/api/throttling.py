"""Rate limits, configured in settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

The client address comes from DRF's `get_ident`, which honours `NUM_PROXIES` (trusted
proxies; 0 by default, so X-Forwarded-For is ignored unless proxies are configured).
"""

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    """Reads its rate from the settings on each request (so overriding them takes effect)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


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
