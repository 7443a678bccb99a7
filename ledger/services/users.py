"""Logins and their API tokens: the writes that change who can act, each with its audit row.

A token's `last_used_at` is the one write here that is no service: authentication refreshes
it (at most once a minute) as a plain UPDATE, because it records no one's decision, and an
audit row per use would grow the append-only trail with every API request.
"""

from django.db import IntegrityError, transaction

from accounts import tokens
from accounts.models import ApiToken, User
from ledger import access
from ledger.errors import NotAllowed, ValidationFailed

from . import audit


def create_user(
    *,
    actor,
    username: str,
    email: str = "",
    display_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a login; `is_superuser` makes it an operator (every role in every program).

    `actor` holds the Django permission `accounts.add_user` (an operator grants it), or is
    None for the system: a management command run by an operator (the first operator of a
    fresh install has no one before it), or a person creating their own login through an
    invitation link (`accept_invitation_as_new_user`). Roles in programs are granted
    afterwards, per program. The password comes raw (`password`, hashed here; None leaves
    the login unusable until one is set) or already hashed with `make_password`
    (`password_hash`), for a loader that hashes one demo password once for many logins: the
    hash is slow on purpose.
    """
    if actor is not None:
        access.require_permission(actor, "accounts.add_user", "Only an operator may create logins.")
        if is_superuser and not access.is_operator(actor):
            raise NotAllowed("Only an operator may create another operator.")
    if password is not None and password_hash is not None:
        raise ValueError("Pass a password or its hash, not both.")
    user = User(
        username=User.normalize_username(username),
        email=User.objects.normalize_email(email),
        display_name=display_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
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
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
    except IntegrityError:
        if User.objects.filter(username=user.username).exists():
            raise ValidationFailed("This username is taken.", field="username") from None
        raise
    return user


def create_artist(
    *, actor, username: str, email: str, password: str, display_name: str = ""
) -> User:
    """An operator creates an artist's login (the password already passed the validators);
    managers add people by invitation instead."""
    return create_user(
        actor=actor,
        username=username,
        email=email,
        display_name=display_name,
        password=password,
    )


def revoke_token(*, actor, token_id, owner=None) -> bool:
    """Revoke a live API token of `owner` (by default the actor's own); false when `owner` has
    no such live token. Revoking someone else's token takes an operator's permission (the
    Django admin's action); it stops working at the next request."""
    owner = actor if owner is None else owner
    if owner.pk != actor.pk:
        access.require_permission(
            actor, "accounts.change_apitoken", "Only an operator may revoke another's token."
        )
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
