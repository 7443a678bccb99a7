"""Second-factor helpers for tests: a TOTP clock the tests move, codes computed from a secret
as an authenticator app computes them, and enrolment through the service."""

import base64
import binascii

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ledger import services

STEP = 30  # seconds per TOTP code (django-otp's default, and every authenticator app's)


class TotpClock:
    """Stands in for the `time` module inside django-otp's TOTP device, so a test can move to
    the next 30-second step instead of waiting for it: a device accepts each step once."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def advance(self, steps: int = 1) -> None:
        self.now += STEP * steps

    def code(self, key: str) -> str:
        """The code an app holding the hex `key` shows at the next time step (the clock moves
        there first): each code asked for is a fresh one, which the device has not seen."""
        self.advance()
        totp = TOTP(binascii.unhexlify(key), step=STEP)
        totp.time = self.now
        return f"{totp.token():06d}"

    def wrong_code(self, key: str) -> str:
        """A code the app does not show now (nor one step either side)."""
        totp = TOTP(binascii.unhexlify(key), step=STEP)
        near = set()
        for offset in (-1, 0, 1):
            totp.time = self.now + offset * STEP
            near.add(totp.token())
        candidate = 123456
        while candidate in near:
            candidate += 1
        return f"{candidate:06d}"


def key_from_setup_text(text: str) -> str:
    """The hex key behind the setup key a person types into the app ("ABCD EFGH …")."""
    compact = text.replace(" ", "")
    padded = compact + "=" * (-len(compact) % 8)
    return binascii.hexlify(base64.b32decode(padded)).decode("ascii")


def enrol(user, clock: TotpClock, key: str = "3132333435363738393031323334353637383930"):
    """Turn on `user`'s second factor through the service; returns (device, recovery codes)."""
    device, codes = services.enable_second_factor(actor=user, key=key, code=clock.code(key))
    assert isinstance(device, TOTPDevice) and device.confirmed
    return device, codes
