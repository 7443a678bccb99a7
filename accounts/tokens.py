"""API tokens as the pages use them: create (the secret is shown once), list, revoke.

A small interface over the token model so the pages do not depend on how tokens are stored.
The model (`accounts.models.ApiToken`, only a SHA-256 of each secret kept) and the function
that issues tokens (`ledger.api.auth.issue_token`) belong to the REST API; where they are not
installed, `available()` is false and the tokens page says so instead of failing.
"""

from django.apps import apps


class TokensUnavailable(RuntimeError):
    """This installation has no API token model."""


def _model():
    try:
        return apps.get_model("accounts", "ApiToken")
    except LookupError:
        return None


def available() -> bool:
    return _model() is not None


def create_token(user, name: str):
    """Issue a token for `user`; returns (token, secret). The secret is never stored."""
    if not available():
        raise TokensUnavailable("API tokens are not available in this installation.")
    from ledger.api.auth import issue_token

    return issue_token(user=user, name=name)


def list_tokens(user):
    """The user's tokens that still work (not revoked, not expired), newest first."""
    model = _model()
    if model is None:
        return []
    return list(model.objects.live().filter(user=user).order_by("-created_at", "-id"))


def revoke_token(user, token_id) -> bool:
    """Revoke one of the user's own live tokens; false when it has no such token."""
    model = _model()
    if model is None:
        return False
    return bool(model.objects.live().filter(user=user, pk=token_id).update(revoked=True))
