"""Who in a payout batch can be paid by bank transfer: each artist's share and their IBAN on
file, masked. For the program's treasurers (the payment-file page), never anyone else."""

from dataclasses import dataclass

from accounts.models import BankDetails
from ledger import access, banking
from ledger.exports.csv import payout_batch, payout_batch_lines


@dataclass(frozen=True)
class BatchAccount:
    artist: object  # accounts.User
    total_minor: int
    currency: str
    iban_masked: str  # empty: no IBAN on file
    bic_masked: str


def batch_accounts(*, viewer, program, paid_on) -> list[BatchAccount]:
    """One row per artist of the batch (as the CSV and the payment file group it), with their
    banking details masked; raises `NotAllowed` unless `viewer` may read them there."""
    access.require(viewer, access.Action.READ_BANK_DETAILS, program.pk)
    lines = list(payout_batch_lines(payout_batch(program, paid_on=paid_on)))
    details = BankDetails.objects.in_bulk([line.artist.pk for line in lines])
    rows = []
    for line in lines:
        found = details.get(line.artist.pk)
        rows.append(
            BatchAccount(
                artist=line.artist,
                total_minor=line.total_minor,
                currency=line.currency,
                iban_masked=banking.mask(found.iban) if found else "",
                bic_masked=banking.mask(found.bic) if found else "",
            )
        )
    return rows
