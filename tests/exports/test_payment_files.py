"""The payout batch as a pain.001.001.09 credit transfer: valid against the XSD (two
validators), one transfer per artist summing what the CSV sums, to the IBANs on file, from
the program's account; refused whole, naming everyone without banking details."""

import datetime as dt
import hashlib

import pytest

from ledger import services
from ledger.errors import EmptyBatch, NotAllowed, PaymentFileRefused, ValidationFailed
from ledger.exports.csv import payout_batch, payout_batch_lines
from ledger.models import AuditEvent
from tests.conftest import TODAY, make_program
from tests.factories import UserFactory

from .sepa_tools import needs_xmllint, read, xmllint, xmlschema_errors

YESTERDAY = TODAY - dt.timedelta(days=1)
PAYER_IBAN = "DE02120300000000202051"


def pay(program, artist, actor, amount, *, day=TODAY, reference=""):
    return services.record_payout(
        actor=actor,
        artist=artist,
        program=program,
        amount_minor=amount,
        kind="grant",
        paid_on=day,
        reference=reference,
    )


@pytest.fixture
def euro(euro, admin, artist, artist2):
    """The shared EUR program, with a paying account and both members' IBANs on file."""
    program = euro
    services.update_program(
        actor=admin,
        program=program,
        payer_name="Studio Kollektiv GmbH",
        payer_iban="de02 1203 0000 0000 2020 51",
    )
    services.set_bank_details(actor=artist, user=artist, iban="DE89 3704 0044 0532 0130 00")
    services.set_bank_details(
        actor=artist2, user=artist2, iban="NL91ABNA0417164300", bic="abnanl2a"
    )
    return program


@pytest.fixture
def treasurer(admin, euro):
    person = UserFactory(username="treasurer1")
    services.grant_role(actor=admin, program=euro, user=person, role="treasurer")
    return person


def test_a_batch_is_a_valid_pain001_summing_per_artist(euro, treasurer, artist, artist2):
    pay(euro, artist, treasurer, 5000, reference="BATCH-7a")
    pay(euro, artist, treasurer, 2550, reference="BATCH-7b")
    pay(euro, artist2, treasurer, 1234)
    pay(euro, artist2, treasurer, 777, day=YESTERDAY)  # another batch
    voided = pay(euro, artist2, treasurer, 100)
    services.void_payout(payout=voided, actor=treasurer, reason="typo")

    written = services.payment_file(actor=treasurer, program=euro, paid_on=TODAY)

    assert xmlschema_errors(written.content) == []
    doc = read(written.content)
    expected = {
        line.artist.pk: line.total_minor
        for line in payout_batch_lines(payout_batch(euro, paid_on=TODAY))
    }
    assert sorted(expected.values()) == [1234, 7550]
    assert doc["count"] == written.transfers == 2
    assert doc["control_sum"] == doc["block_sum"] == written.total_minor == 8784
    assert doc["message_id"] == written.message_id
    assert doc["execution_date"] == TODAY.isoformat()
    assert doc["debtor"] == "Studio Kollektiv GmbH"
    assert doc["debtor_iban"] == PAYER_IBAN  # decrypted, normalised
    by_iban = {t["iban"]: t for t in doc["transfers"]}
    assert set(by_iban) == {"DE89370400440532013000", "NL91ABNA0417164300"}
    first = by_iban["DE89370400440532013000"]
    assert first["cents"] == 7550 and first["currency"] == "EUR"
    assert first["bic"] == "COBADEFFXXX"  # derived from the IBAN
    assert first["end_to_end"] == f"L{euro.pk}-A{artist.pk}-{TODAY:%Y%m%d}"
    assert "BATCH-7a; BATCH-7b" in first["remittance"]
    assert by_iban["NL91ABNA0417164300"]["bic"] == "ABNANL2A"
    assert by_iban["NL91ABNA0417164300"]["cents"] == 1234


@needs_xmllint
def test_xmllint_accepts_the_file_and_refuses_a_broken_one(euro, treasurer, artist):
    pay(euro, artist, treasurer, 4200)
    content = services.payment_file(actor=treasurer, program=euro, paid_on=TODAY).content
    checked = xmllint(content)
    assert checked.returncode == 0, checked.stderr
    assert "validates" in checked.stderr
    broken = content.replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>FREE</ChrgBr>")
    assert broken != content
    assert xmllint(broken).returncode != 0  # the validator does check
    assert xmlschema_errors(broken)


def test_every_file_has_its_own_message_id_and_an_audit_row(euro, treasurer, artist):
    pay(euro, artist, treasurer, 4200)
    first = services.payment_file(actor=treasurer, program=euro, paid_on=TODAY)
    second = services.payment_file(actor=treasurer, program=euro, paid_on=TODAY)
    assert first.message_id != second.message_id
    rows = list(AuditEvent.objects.filter(action="payout.payment_file").order_by("id"))
    assert len(rows) == 2
    assert rows[0].actor_id == treasurer.pk and rows[0].program_id == euro.pk
    assert rows[0].data == {
        "format": "pain.001.001.09",
        "paid_on": TODAY.isoformat(),
        "transfers": 1,
        "total_minor": 4200,
        "message_id": first.message_id,
        "sha256": hashlib.sha256(first.content).hexdigest(),
    }
    assert "0532013000" not in str(rows[0].data)


def test_missing_details_refuse_the_file_naming_everyone(euro, admin, treasurer, artist, artist2):
    third = UserFactory(username="artist3", display_name="Ines Keinkonto")
    services.enroll_artist(actor=admin, program=euro, artist=third)
    services.set_bank_details(actor=artist2, user=artist2, iban="")
    for member in (artist, artist2, third):
        pay(euro, member, treasurer, 1000)
    with pytest.raises(PaymentFileRefused) as refused:
        services.payment_file(actor=treasurer, program=euro, paid_on=TODAY)
    messages = [message for field, message in refused.value.problems]
    assert [field for field, _ in refused.value.problems] == ["artist", "artist"]
    assert messages == [
        f"{artist2} (id {artist2.pk}) has no IBAN on file: they add it under Account, "
        "Bank details.",
        f"Ines Keinkonto (id {third.pk}) has no IBAN on file: they add it under Account, "
        "Bank details.",
    ]
    assert not AuditEvent.objects.filter(action="payout.payment_file").exists()


def test_a_program_without_a_paying_account_is_named(euro, admin, treasurer, artist):
    services.update_program(actor=admin, program=euro, payer_iban="")
    pay(euro, artist, treasurer, 1000)
    with pytest.raises(PaymentFileRefused) as refused:
        services.payment_file(actor=treasurer, program=euro, paid_on=TODAY)
    assert [field for field, _ in refused.value.problems] == ["payer_account"]


def test_only_euros_only_treasurers_and_never_an_empty_file(db, admin, euro, treasurer, artist):
    with pytest.raises(EmptyBatch):
        services.payment_file(actor=treasurer, program=euro, paid_on=TODAY)
    dollars = make_program(admin, currency="USD")
    with pytest.raises(ValidationFailed) as refused:
        services.payment_file(actor=admin, program=dollars, paid_on=TODAY)
    assert refused.value.field == "format" and "EUR" in refused.value.message
    pay(euro, artist, treasurer, 1000)
    for role in ("manager", "reviewer", "auditor"):
        person = UserFactory(username=f"{role}9")
        services.grant_role(actor=admin, program=euro, user=person, role=role)
        with pytest.raises(NotAllowed):
            services.payment_file(actor=person, program=euro, paid_on=TODAY)
    with pytest.raises(NotAllowed):
        services.payment_file(actor=artist, program=euro, paid_on=TODAY)
    assert services.payment_file(actor=admin, program=euro, paid_on=TODAY).transfers == 1


def test_names_a_bank_cannot_print_are_transliterated_or_replaced(euro, admin, treasurer):
    """The schema refuses an empty name: one with nothing to transliterate falls back."""
    people = [
        UserFactory(username="zoe", display_name="Zoë Ångström"),
        UserFactory(username="chen", display_name="陈伟"),
        UserFactory(username="palette", display_name="🎨🎨"),
    ]
    for person in people:
        services.enroll_artist(actor=admin, program=euro, artist=person)
        services.set_bank_details(actor=person, user=person, iban="NL91ABNA0417164300")
        pay(euro, person, treasurer, 100)
    services.update_program(actor=admin, program=euro, payer_name="🏦")
    content = services.payment_file(actor=treasurer, program=euro, paid_on=TODAY).content
    assert xmlschema_errors(content) == []
    doc = read(content)
    assert sorted(t["name"] for t in doc["transfers"]) == ["Chen Wei", "Zoe Angstrom", "palette"]
    assert doc["debtor"] == "Program EUR"  # the program's name, the account holder's unprintable
