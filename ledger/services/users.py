"""Logins, their API tokens and second factors: the writes that change who can act, each with
its audit row.

A token's `last_used_at` is the one write here that is no service: authentication refreshes
it (at most once a minute) as a plain UPDATE, because it records no one's decision, and an
audit row per use would grow the append-only trail with every API request.
"""

from django.db import IntegrityError, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor, tokens
from accounts.models import ApiToken, User
from ledger import access
from ledger.errors import InvalidTransition, NotAllowed, ValidationFailed

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


def _lock_user(actor) -> None:
    """Serialise a user's second-factor changes (two tabs confirming at once make one device)."""
    User.objects.select_for_update().filter(pk=actor.pk).first()


def enable_second_factor(*, actor, key: str, code: str):
    """Turn on the actor's second factor: `key` is the secret its authenticator app was given
    (`second_factor.new_secret`), `code` what the app shows now, which proves the app has it.
    Returns `(device, recovery_codes)`: the codes are kept by django-otp and shown to the
    person once. Nothing is written when the code does not match."""
    if not second_factor.is_secret(key):
        raise ValidationFailed("Start again: this setup has expired.", field="code")
    with transaction.atomic():
        _lock_user(actor)
        if second_factor.is_enrolled(actor):
            raise InvalidTransition("Your second factor is already on.")
        second_factor.remove_devices(actor)  # a set-up left half done, or stale codes
        device = TOTPDevice.objects.create(
            user=actor, name=second_factor.TOTP_DEVICE_NAME, key=key, confirmed=False
        )
        # The device's own check (clock tolerance, time step recorded so the code cannot be
        # used again to sign in); a wrong code rolls the new device back with this block.
        if not device.verify_token(second_factor.normalize(code)):
            raise ValidationFailed(
                "That code does not match. Enter the 6-digit code your app shows now.",
                field="code",
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = second_factor.replace_recovery_codes(actor)
        audit.record(actor=actor, action="otp.enable", obj=device, user=actor.pk)
    return device, codes


def disable_second_factor(*, actor, code: str) -> None:
    """Turn off the actor's second factor: its authenticator and recovery codes are deleted.
    `code` (from the app, or a recovery code) proves the person holds the factor, not only a
    signed-in session."""
    with transaction.atomic():
        _lock_user(actor)
        if not second_factor.is_enrolled(actor):
            raise InvalidTransition("Your second factor is already off.")
        if second_factor.verify_code(actor, code) is None:
            raise ValidationFailed("That code is not valid.", field="code")
        second_factor.remove_devices(actor)
        audit.record(actor=actor, action="otp.disable", obj=actor, user=actor.pk)


def regenerate_recovery_codes(*, actor) -> list[str]:
    """New recovery codes for the actor (the old ones stop working); returns them, for showing
    once."""
    with transaction.atomic():
        _lock_user(actor)
        if not second_factor.is_enrolled(actor):
            raise InvalidTransition("Turn on your second factor first.")
        codes = second_factor.replace_recovery_codes(actor)
        audit.record(actor=actor, action="otp.recovery_codes", obj=actor, user=actor.pk)
    return codes
