"""Logins and their API tokens: the writes that change who can act, each with its audit row.

A token's `last_used_at` is the one write here that is no service: authentication refreshes
it (at most once a minute) as a plain UPDATE, because it records no one's decision, and an
audit row per use would grow the append-only trail with every API request.
"""

from django.db import IntegrityError, transaction

from accounts import tokens
from accounts.models import ApiToken, Role, User
from ledger.errors import ValidationFailed

from . import audit
from .common import require_admin


def create_user(
    *,
    actor,
    username: str,
    role: str,
    email: str = "",
    display_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    is_staff: bool = False,
) -> User:
    """Create a login with `role`.

    `actor` is the admin who creates it, or None for a management command run by an operator
    (the first admin of a fresh install has no one before it). The password comes raw
    (`password`, hashed here; None leaves the login unusable until one is set) or already
    hashed with `make_password` (`password_hash`), for a loader that hashes one demo password
    once for many logins: the hash is slow on purpose.
    """
    if actor is not None:
        require_admin(actor)
    if password is not None and password_hash is not None:
        raise ValueError("Pass a password or its hash, not both.")
    user = User(
        username=User.normalize_username(username),
        email=User.objects.normalize_email(email),
        role=role,
        display_name=display_name,
        is_staff=is_staff,
    )
    if password_hash is not None:
        user.password = password_hash
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            # This event's own details; how an audit row is written has one home (audit.record).
            audit.record(
                actor=actor,
                action="user.create",
                obj=user,
                username=user.username,
                role=role,
                is_staff=is_staff,
            )
    except IntegrityError:
        if User.objects.filter(username=user.username).exists():
            raise ValidationFailed("This username is taken.", field="username") from None
        raise
    return user


def create_artist(
    *, actor, username: str, email: str, password: str, display_name: str = ""
) -> User:
    """An admin creates an artist's login (the password already passed the validators)."""
    require_admin(actor)
    return create_user(
        actor=actor,
        username=username,
        role=Role.ARTIST,
        email=email,
        display_name=display_name,
        password=password,
    )


def revoke_token(*, actor, token_id, owner=None) -> bool:
    """Revoke a live API token of `owner` (by default the actor's own); false when `owner` has
    no such live token. Revoking someone else's token takes an admin (the Django admin's
    action); it stops working at the next request."""
    owner = actor if owner is None else owner
    if owner.pk != actor.pk:
        require_admin(actor)
    with transaction.atomic():
        revoked = ApiToken.objects.live().filter(user=owner, pk=token_id).update(revoked=True)
        if revoked:
            audit.record(
                actor=actor,
                action="token.revoke",
                obj=ApiToken(pk=token_id, user=owner),
                user=owner.pk,
            )
    return bool(revoked)


def revoke_all_tokens(*, actor) -> int:
    """Revoke every live API token of the actor (its "sign out everywhere"); returns how many.
    The request's own token is among them."""
    with transaction.atomic():
        revoked = tokens.revoke_all_tokens(actor)
        if revoked:
            audit.record(
                actor=actor, action="token.revoke_all", obj=actor, user=actor.pk, count=revoked
            )
    return revoked
