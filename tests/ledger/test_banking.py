"""Banking details: checked, normalised, masked when shown, encrypted at rest under keys that
rotate, changed only by their owner, every change audited without the value."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from accounts.models import BankDetails
from ledger import banking, crypto, services
from ledger.errors import NotAllowed, ValidationFailed
from ledger.models import AuditEvent, PayerAccount
from tests.conftest import make_program

DE = "DE89370400440532013000"


def raw(table: str, column: str, key: str, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {key} = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("iban", "bic", "stored"),
    [
        ("DE89 3704 0044 0532 0130 00", "", (DE, "COBADEFFXXX")),  # BIC derived
        ("de89370400440532013000", "cobadeffxxx", (DE, "COBADEFFXXX")),
        ("NL91ABNA0417164300", "ABNANL2A", ("NL91ABNA0417164300", "ABNANL2A")),
        ("AT611904300234573201", "", ("AT611904300234573201", "")),  # none derivable
    ],
)
def test_valid_details_are_normalised(iban, bic, stored):
    account = banking.check_account(iban, bic)
    assert (account.iban, account.bic) == stored


@pytest.mark.parametrize(
    ("iban", "bic", "field", "words"),
    [
        ("DE89370400440532013001", "", "iban", "check digits"),
        ("XX89370400440532013000", "", "iban", "country code"),
        ("DE8937040044053201300", "", "iban", "length"),
        ("DE89-3704-0044", "", "iban", "characters"),
        ("not an iban at all", "", "iban", "Not a valid IBAN"),
        (DE, "COBADEFF1", "bic", "Not a valid BIC"),
        (DE, "ABNANL2A", "bic", "of a bank in NL"),
    ],
)
def test_invalid_details_name_their_field_without_echoing_them(iban, bic, field, words):
    with pytest.raises(ValidationFailed) as refused:
        banking.check_account(iban, bic)
    assert refused.value.field == field
    assert words in refused.value.message
    assert iban.upper().replace(" ", "") not in refused.value.message


def test_the_mask_keeps_the_last_four_characters_only():
    assert banking.mask(DE) == "•••• 3000"
    assert banking.mask("ABNANL2A") == "•••• NL2A"
    assert banking.mask("") == ""


def test_details_are_encrypted_at_rest_and_read_back(artist):
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    stored = raw("accounts_bankdetails", "iban", "user_id", artist.pk)
    assert stored and not any(digits in stored for digits in ("0532013000", "3704", "DE89"))
    assert "COBADEFF" not in raw("accounts_bankdetails", "bic", "user_id", artist.pk)
    assert BankDetails.objects.get(user=artist).iban == DE


def test_changes_are_audited_masked_and_the_owner_alone_makes_them(artist, artist2, admin):
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    services.set_bank_details(actor=artist, user=artist, iban=DE)  # no change: no row
    services.set_bank_details(actor=artist, user=artist, iban="NL91ABNA0417164300")
    services.set_bank_details(actor=artist, user=artist, bic="")  # re-derived: the same
    services.set_bank_details(actor=artist, user=artist, iban="")
    rows = list(AuditEvent.objects.filter(action="user.bank_details").order_by("id"))
    assert [row.data for row in rows] == [
        {"iban": "set", "iban_last4": "3000", "bic": "set", "bic_last4": "FXXX"},
        {"iban": "changed", "iban_last4": "4300", "bic": "changed", "bic_last4": "NL2A"},
        {"iban": "cleared", "bic": "cleared"},
    ]
    assert {row.actor_id for row in rows} == {artist.pk}
    assert not BankDetails.objects.filter(user=artist).exists()
    for someone_else in (artist2, admin):  # an operator neither: it could redirect pay
        with pytest.raises(NotAllowed):
            services.set_bank_details(actor=someone_else, user=artist, iban=DE)
    with pytest.raises(ValidationFailed) as refused:
        services.set_bank_details(actor=artist, user=artist, bic="COBADEFFXXX")
    assert refused.value.field == "bic"  # a BIC with no IBAN on file
    with pytest.raises(ValidationFailed):
        services.set_bank_details(actor=artist, user=artist, iban="DE00")
    assert AuditEvent.objects.filter(action="user.bank_details").count() == 3


def test_preferences_set_banking_details_in_one_transaction(artist):
    with pytest.raises(ValidationFailed):
        services.set_preferences(user=artist, email_notifications=False, iban="DE00")
    artist.refresh_from_db()
    assert artist.email_notifications is True  # nothing written
    services.set_preferences(user=artist, email_notifications=False, iban=DE)
    assert BankDetails.objects.get(user=artist).bic == "COBADEFFXXX"


def test_the_payer_account_is_a_managers_setting_audited_masked(admin, manager, program):
    services.update_program(
        actor=manager, program=program, payer_name="Studio", payer_iban="DE02120300000000202051"
    )
    account = PayerAccount.objects.get(program=program)
    assert (account.name, account.iban, account.bic) == (
        "Studio",
        "DE02120300000000202051",
        "BYLADEM1001",
    )
    assert "0000202051" not in raw("ledger_payeraccount", "iban", "program_id", program.pk)
    row = AuditEvent.objects.filter(action="program.update").latest("id")
    assert row.data["payer_account"] == {
        "payer_iban": "set",
        "payer_iban_last4": "2051",
        "payer_name": ["", "Studio"],
        "payer_bic": ["", "BYLADEM1001"],
    }
    assert "0000202051" not in str(row.data)
    with pytest.raises(ValidationFailed) as refused:
        services.update_program(actor=manager, program=program, payer_bic="ABNANL2A")
    assert refused.value.field == "payer_bic"
    with pytest.raises(ValidationFailed) as refused:
        services.update_program(actor=manager, program=program, payer_name=" ")
    assert refused.value.field == "payer_name"
    other = make_program(admin, currency="EUR")
    with pytest.raises(ValidationFailed) as refused:
        services.update_program(actor=admin, program=other, payer_name="No IBAN yet")
    assert refused.value.field == "payer_name"
    services.update_program(actor=manager, program=program, payer_iban="")
    assert not PayerAccount.objects.filter(program=program).exists()


def test_rotation_re_encrypts_banking_columns(admin, artist, program):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(LEDGER_ENCRYPTION_KEYS=[old]):
        services.set_bank_details(actor=artist, user=artist, iban=DE)
        services.update_program(
            actor=admin, program=program, payer_name="S", payer_iban="DE02120300000000202051"
        )
    before = (
        raw("accounts_bankdetails", "iban", "user_id", artist.pk),
        raw("accounts_bankdetails", "bic", "user_id", artist.pk),
        raw("ledger_payeraccount", "iban", "program_id", program.pk),
    )
    with override_settings(LEDGER_ENCRYPTION_KEYS=[new, old]):
        call_command("rotate_encryption_keys", stdout=None)
    after = (
        raw("accounts_bankdetails", "iban", "user_id", artist.pk),
        raw("accounts_bankdetails", "bic", "user_id", artist.pk),
        raw("ledger_payeraccount", "iban", "program_id", program.pk),
    )
    assert all(a != b for a, b in zip(before, after, strict=True))
    with override_settings(LEDGER_ENCRYPTION_KEYS=[new]):  # the old key dropped
        assert BankDetails.objects.get(user=artist).iban == DE
        assert PayerAccount.objects.get(program=program).iban == "DE02120300000000202051"
        assert crypto.decrypt(after[0]) == DE
        with pytest.raises(crypto.UnreadableSecret):
            crypto.decrypt(before[0])
