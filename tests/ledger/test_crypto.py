"""Encryption at rest: tokens, not text, and keys that rotate."""

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from ledger import crypto


def test_a_value_round_trips_and_is_not_stored_in_clear():
    token = crypto.encrypt("DE89370400440532013000")
    assert "DE89" not in token and "370400" not in token
    assert crypto.decrypt(token) == "DE89370400440532013000"
    assert crypto.encrypt("same") != crypto.encrypt("same")  # a fresh IV each time


def test_a_new_first_key_still_reads_what_the_old_one_wrote():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(LEDGER_ENCRYPTION_KEYS=[old]):
        token = crypto.encrypt("secret")
    with override_settings(LEDGER_ENCRYPTION_KEYS=[new, old]):
        assert crypto.decrypt(token) == "secret"
        rotated = crypto.encrypt("secret")
    with override_settings(LEDGER_ENCRYPTION_KEYS=[new]):
        assert crypto.decrypt(rotated) == "secret"
        with pytest.raises(crypto.UnreadableSecret):
            crypto.decrypt(token)  # the old key was dropped before rotating


def test_what_was_written_before_keys_were_set_stays_readable():
    token = crypto.encrypt("written with the derived key")
    with override_settings(LEDGER_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        assert crypto.decrypt(token) == "written with the derived key"


def test_a_malformed_key_is_a_configuration_error():
    with (
        override_settings(LEDGER_ENCRYPTION_KEYS=["not-a-key"]),
        pytest.raises(crypto.ImproperlyConfigured, match="Fernet keys"),
    ):
        crypto.encrypt("x")
