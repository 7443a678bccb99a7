"""API tokens: issue (the secret is shown once) and list. Used by the API and the pages;
revoking is a service with an audit row (`ledger.services.revoke_token`).

The database keeps only a SHA-256 of each secret, so a leaked database leaks no working token.
"""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone

from accounts.models import ApiToken

TOKEN_PREFIX = "lgr_"  # noqa: S105 (a public prefix, not a secret)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(*, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns it and the secret (shown to the caller once)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ttl_days = getattr(settings, "LEDGER_API_TOKEN_TTL_DAYS", 90)
    expires_at = timezone.now() + dt.timedelta(days=ttl_days) if ttl_days else None
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=hash_token(secret), expires_at=expires_at
    )
    return token, secret


def list_tokens(user):
    """The user's tokens that still work (not revoked, not expired), newest first."""
    return list(ApiToken.objects.live().filter(user=user).order_by("-created_at", "-id"))


def revoke_all_tokens(user) -> int:
    """Revoke every live token of the user; returns how many. Called when their password
    changes (`User.save`: a token must not outlive the password that created it), and by the
    audited service `ledger.services.revoke_all_tokens` when they ask."""
    return ApiToken.objects.live().filter(user=user).update(revoked=True)
