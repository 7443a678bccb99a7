"""A payout batch as an ISO 20022 `pain.001.001.09` credit transfer for the program's bank.

Written by `sepaxml` and validated against the XSD it ships before anything is returned, so a
file that leaves here is one the bank's parser accepts. Amounts are integer cents throughout
(sepaxml takes cents as int). Who may have it, and its audit row, are the service's
(`services.banking.payment_file`); this module only writes it.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import sepaxml
from django.views.decorators.debug import sensitive_variables
from sepaxml import SepaTransfer
from text_unidecode import unidecode

from ledger import clock

SCHEMA = "pain.001.001.09"
XSD = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"
CURRENCY = "EUR"  # a SEPA credit transfer moves euros only
MAX_ID = 35  # the longest MsgId / EndToEndId the schema allows


@dataclass(frozen=True)
class Transfer:
    name: str
    iban: str
    bic: str
    amount_minor: int
    end_to_end_id: str
    remittance: str


@dataclass(frozen=True)
class PaymentFile:
    content: bytes
    message_id: str
    transfers: int
    total_minor: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def printable(text: str) -> str:
    """`text` as a bank's file carries it: Latin letters only (transliterated, as sepaxml does),
    at most 70 characters; empty when nothing of it transliterates (an emoji-only name), so the
    caller falls back to another name rather than write a file the schema refuses."""
    return unidecode(text).strip()[:70].strip()


def message_id(program_id: int, paid_on: dt.date) -> str:
    """Unique per file (a bank refuses a MsgId it has seen): the program, the day and 48
    random bits, within the schema's 35 characters."""
    return f"L{program_id}-{paid_on:%Y%m%d}-{secrets.token_hex(6)}"[:MAX_ID]


def end_to_end_id(program_id: int, artist_id: int, paid_on: dt.date) -> str:
    """Travels to the artist's bank statement: which program paid whom, for which day."""
    return f"L{program_id}-A{artist_id}-{paid_on:%Y%m%d}"[:MAX_ID]


@sensitive_variables()  # error reports show no local of it (IBANs)
def write(
    *,
    program_id: int,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str,
    paid_on: dt.date,
    transfers: list[Transfer],
) -> PaymentFile:
    """The file for `transfers` (at least one) of the program, executed on `paid_on`,
    validated against the XSD (sepaxml raises if it does not)."""
    config = {
        "name": debtor_name,
        "IBAN": debtor_iban,
        "batch": True,  # one payment information block: one debit on the statement
        "currency": CURRENCY,
    }
    if debtor_bic:
        config["BIC"] = debtor_bic
    document = SepaTransfer(config, schema=SCHEMA)
    msg_id = message_id(program_id, paid_on)
    header = document._xml.find("CstmrCdtTrfInitn/GrpHdr")
    header.find("MsgId").text = msg_id
    # The creation time from the ledger's clock, in UTC (sepaxml reads the local clock).
    header.find("CreDtTm").text = clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    count = total = 0
    for transfer in transfers:
        payment = {
            "name": transfer.name,
            "IBAN": transfer.iban,
            "amount": int(transfer.amount_minor),
            "execution_date": paid_on,
            "description": transfer.remittance,
            "endtoend_id": transfer.end_to_end_id,
        }
        if transfer.bic:
            payment["BIC"] = transfer.bic
        document.add_payment(payment)
        count += 1
        total += transfer.amount_minor
    content = document.export(validate=True)
    return PaymentFile(content=content, message_id=msg_id, transfers=count, total_minor=total)
