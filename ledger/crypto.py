"""Encryption at rest for the few secrets the ledger must read back in clear: artists' banking
details (to write payment files) and webhook signing secrets (to sign deliveries).

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) under a MultiFernet: the first
key of `LEDGER_ENCRYPTION_KEYS` encrypts, every key decrypts, so keys rotate without downtime:

1. put a new key first (`python -c "from cryptography.fernet import Fernet;
   print(Fernet.generate_key().decode())"`), keep the old ones after it, restart;
2. `python manage.py rotate_encryption_keys` re-encrypts every encrypted column with the new key;
3. drop the old keys, restart.

A key derived from `LEDGER_ENCRYPTION_FALLBACK` (DJANGO_SECRET_KEY in production) is always the
last key: it encrypts when no key is set, and keeps what it encrypted readable after keys are set.

`EncryptedTextField` is the one way a model stores such a value: it encrypts on the way in and
decrypts on the way out, so code reads plain text and the database holds only tokens. A token
is different every time (random IV): such a column can be neither filtered nor ordered on.
"""

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction


class UnreadableSecret(ImproperlyConfigured):
    """A stored value none of the configured keys decrypts (a key was dropped too soon)."""


def _derived_key(material: str) -> bytes:
    digest = hashlib.sha256(b"ledger-encryption-at-rest:" + material.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.cache
def _fernet(keys: tuple[str, ...], fallback: str) -> MultiFernet:
    try:
        fernets = [Fernet(key.encode()) for key in keys]
    except ValueError as error:
        raise ImproperlyConfigured(
            "LEDGER_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), "
            "separated by commas."
        ) from error
    return MultiFernet([*fernets, Fernet(_derived_key(fallback))])


def fernet() -> MultiFernet:
    """The keys now configured (read each call, so settings overridden in tests apply)."""
    return _fernet(tuple(settings.LEDGER_ENCRYPTION_KEYS), settings.LEDGER_ENCRYPTION_FALLBACK)


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as error:
        raise UnreadableSecret(
            "A stored secret cannot be decrypted with LEDGER_ENCRYPTION_KEYS: a key it was "
            "encrypted with is missing."
        ) from error


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; plain in Python. Empty text is stored empty (nothing
    to hide, and "not set" stays cheap to test)."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted columns, and their names."""
    found = []
    for model in apps.get_models():
        names = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if names:
            found.append((model, names))
    return found


def rotate_all(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every encrypted column with the first key; returns rows rewritten per model.

    Each batch is read and rewritten in one transaction, rows locked, so a concurrent change is
    neither lost nor overwritten with older text."""
    counts = {}
    for model, names in encrypted_fields():
        label, done, last = model._meta.label, 0, None
        while True:
            with transaction.atomic():
                rows = model._base_manager.select_for_update().order_by("pk")
                if last is not None:
                    rows = rows.filter(pk__gt=last)
                batch = list(rows.only("pk", *names)[:batch_size])
                for row in batch:
                    row.save(update_fields=names)
            if not batch:
                break
            done += len(batch)
            last = batch[-1].pk
        counts[label] = done
    return counts
