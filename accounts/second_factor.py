"""The second factor: a TOTP authenticator app with single-use recovery codes (django-otp).

A user is *enrolled* when it has a confirmed TOTP device; its recovery codes are the tokens of
one static device beside it. A session is *verified* once a code passed in it
(`django_otp.login`, then `request.user.is_verified()`). Whoever is enrolled passes a code at
every sign-in; `LEDGER_STAFF_REQUIRE_2FA` makes staff enrol and verify before they act.

Enrolling, disabling and renewing recovery codes are services (`ledger.services.users`) with
their audit rows. Checking a code here uses it up (a recovery code is deleted, a TOTP time step
cannot be replayed), as authentication refreshes a token's `last_used_at`: no one's decision,
so no audit row.
"""

import base64
import binascii
import re
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# What a signed-in session still owes before it may use staff pages (`due`).
ENROL = "enrol"
VERIFY = "verify"

_TOTP_CODE = re.compile(r"^[0-9]{6}$")
# StaticToken.random_token(): five random bytes in lower-case base32, eight characters.
_RECOVERY_CODE = re.compile(r"^[a-z2-7]{8}$")
_SEPARATORS = re.compile(r"[\s-]+")


def normalize(code: str) -> str:
    """A code as typed, without the spaces or hyphens people add, in lower case."""
    return _SEPARATORS.sub("", code or "").lower()


def required(user) -> bool:
    """Must this user have a second factor? Staff (an operator, or anyone holding a role in a
    program) while `LEDGER_STAFF_REQUIRE_2FA` is on; nobody else, ever."""
    if not settings.LEDGER_STAFF_REQUIRE_2FA or not user.is_authenticated:
        return False
    from ledger import access  # access reads roles through the ledger's models

    return access.is_staff(user)


def totp_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator device, if it enrolled."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def is_enrolled(user) -> bool:
    """Whether the user has a confirmed authenticator device (its `otp_enabled`)."""
    return (
        user.is_authenticated and TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()
    )


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def due(user) -> str | None:
    """What this signed-in session must do before staff pages: `ENROL` (no device yet),
    `VERIFY` (the code step), or nothing (None). `user` is `request.user` as django-otp's
    middleware leaves it, with `is_verified()`."""
    if not user.is_authenticated or _verified(user) or not required(user):
        return None
    return VERIFY if is_enrolled(user) else ENROL


def _verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def verify_code(user, code: str) -> Device | None:
    """The device that accepts `code` from `user`, or None.

    Six digits are checked against the authenticator (a time step once only); eight letters
    and digits against the recovery codes (the one that matches is deleted). Each device also
    counts its own failures and makes the next try wait (django-otp's throttling), which holds
    even across lockout cool-offs.
    """
    code = normalize(code)
    if _TOTP_CODE.match(code):
        model = TOTPDevice
    elif _RECOVERY_CODE.match(code):
        model = StaticDevice
    else:
        return None
    with transaction.atomic():
        # Locked, so two requests with one code cannot both pass.
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices.order_by("pk"):
            if device.verify_token(code):
                return device
    return None


def replace_recovery_codes(user) -> list[str]:
    """Give the user a fresh set of recovery codes (the old ones stop working); returns them,
    for showing once. Runs inside the caller's transaction (a service)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return sorted(codes)


def remove_devices(user) -> None:
    """Delete the user's authenticator and recovery codes (inside a service's transaction)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


# --- Enrolment: a new secret, as text and as a QR code ---------------------------------------


def new_secret() -> str:
    """A new TOTP secret: 20 random bytes, hex-encoded as `TOTPDevice.key` keeps it."""
    return random_hex(20)


def is_secret(key) -> bool:
    try:
        return isinstance(key, str) and len(binascii.unhexlify(key)) == 20
    except (binascii.Error, ValueError):
        return False


def secret_for_people(key: str) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(binascii.unhexlify(key)).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def provisioning_uri(user, key: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


@dataclass(frozen=True)
class QrCode:
    """A QR code as SVG geometry: `size` modules square (quiet zone included) and one path of
    the dark modules. The template draws it: no script, no inline style, no data: URI."""

    size: int
    path: str


def qr_code(text: str, *, border: int = 4) -> QrCode:
    """The QR code of `text` (error correction M), one rectangle per run of dark modules."""
    rows = list(segno.make(text, error="m").matrix_iter(border=border))
    runs = []
    for y, row in enumerate(rows):
        row = list(row)
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return QrCode(size=len(rows), path="".join(runs))
