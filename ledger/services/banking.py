"""Banking details: where an artist is paid, and the account a program pays from.

Values are checked by `ledger.banking`, stored encrypted (`ledger.crypto`), and every change
leaves an audit row saying what changed with the last four characters at most: never the
value, since the audit trail is read by every role of a program."""

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from accounts.models import BankDetails
from ledger import access, banking, clock
from ledger.errors import EmptyBatch, NotAllowed, PaymentFileRefused, ValidationFailed
from ledger.exports import sepa
from ledger.exports.csv import payout_batch, payout_batch_lines
from ledger.models import PayerAccount, Program

from . import audit
from .common import require_text


def _what(old: str, new: str) -> str | None:
    if old == new:
        return None
    if not old:
        return "set"
    return "cleared" if not new else "changed"


def _audit_data(label: str, old: str, new: str) -> dict:
    what = _what(old, new)
    if what is None:
        return {}
    data = {label: what}
    if new:
        data[f"{label}_last4"] = new[-4:]
    return data


def bank_details_of(user) -> BankDetails | None:
    """The banking details on file for `user`, or None (read once per user object)."""
    if not hasattr(user, "_bank_details"):
        user._bank_details = BankDetails.objects.filter(user_id=user.pk).first()
    return user._bank_details


@sensitive_variables()  # error reports show no local of these (IBANs)
def set_bank_details(*, actor, user, iban: str | None = None, bic: str | None = None):
    """Set, change or clear where `user` is paid; None leaves a value as it is.

    Only the person themselves changes them, operators included: whoever could change
    another's IBAN could redirect their pay. An IBAN without a BIC takes the BIC derived from
    it (`banking.check_account`); an empty IBAN clears both; an empty BIC with an IBAN on file
    re-derives it. Returns the details now on file, or None."""
    if actor is None or actor.pk != user.pk:
        raise NotAllowed("Only the person themselves may change their banking details.")
    if iban is None and bic is None:
        return bank_details_of(user)
    with transaction.atomic():
        current = BankDetails.objects.select_for_update().filter(user_id=user.pk).first()
        old_iban, old_bic = (current.iban, current.bic) if current else ("", "")
        if iban is not None and not iban.strip():
            new_iban, new_bic = "", ""
        else:
            if iban is None and current is None:
                raise ValidationFailed("Give an IBAN first: a BIC alone pays nobody.", field="bic")
            account = banking.check_account(
                iban if iban is not None else old_iban,
                bic if bic is not None else ("" if iban is not None else old_bic),
            )
            new_iban, new_bic = account.iban, account.bic
        changes = {
            **_audit_data("iban", old_iban, new_iban),
            **_audit_data("bic", old_bic, new_bic),
        }
        if not changes:
            return current
        if not new_iban:
            BankDetails.objects.filter(user_id=user.pk).delete()
            details = None
        else:
            details, _ = BankDetails.objects.update_or_create(
                user_id=user.pk,
                defaults={"iban": new_iban, "bic": new_bic, "updated_at": clock.now()},
            )
        audit.record(actor=actor, action="user.bank_details", obj=user, **changes)
    user._bank_details = details
    return details


PAYER_SETTINGS = ("payer_name", "payer_iban", "payer_bic")


def payer_account_of(program: Program) -> PayerAccount | None:
    return PayerAccount.objects.filter(program_id=program.pk).first()


@sensitive_variables()
def set_payer_account(*, actor, program: Program, **changes) -> dict:
    """Apply `payer_name`, `payer_iban`, `payer_bic` (a manager's; the caller checked the role
    and holds the program's row locked). An empty `payer_iban` removes the account; a name
    is required while an IBAN is on file; a BIC is optional (derived from the IBAN when
    possible). Returns what changed, masked, for the caller's audit row."""
    current = PayerAccount.objects.filter(program_id=program.pk).first()
    old = {
        "payer_name": current.name if current else "",
        "payer_iban": current.iban if current else "",
        "payer_bic": current.bic if current else "",
    }
    if changes.get("payer_iban") is not None and not changes["payer_iban"].strip():
        new = {"payer_name": "", "payer_iban": "", "payer_bic": ""}
    else:
        iban = changes.get("payer_iban", old["payer_iban"])
        if not iban:
            raise ValidationFailed(
                "Give the paying account's IBAN first.",
                field=next(name for name in PAYER_SETTINGS if name in changes),
            )
        if "payer_bic" in changes:
            bic = changes["payer_bic"]
        else:
            bic = "" if "payer_iban" in changes else old["payer_bic"]
        account = banking.check_account(iban, bic, iban_field="payer_iban", bic_field="payer_bic")
        name = changes.get("payer_name", old["payer_name"])
        name = require_text(name, "payer_name", "The paying account's holder name is required.")
        if len(name) > 70:
            raise ValidationFailed(
                "At most 70 characters (the longest a payment file carries).", field="payer_name"
            )
        new = {"payer_name": name, "payer_iban": account.iban, "payer_bic": account.bic}
    if new == old:
        return {}
    if not new["payer_iban"]:
        PayerAccount.objects.filter(program_id=program.pk).delete()
    else:
        PayerAccount.objects.update_or_create(
            program_id=program.pk,
            defaults={
                "name": new["payer_name"],
                "iban": new["payer_iban"],
                "bic": new["payer_bic"],
            },
        )
    diff = _audit_data("payer_iban", old["payer_iban"], new["payer_iban"])
    for name in ("payer_name", "payer_bic"):  # a name and a bank: nothing to hide
        if old[name] != new[name]:
            diff[name] = [old[name], new[name]]
    return diff


@sensitive_variables()
def payment_file(*, actor, program: Program, paid_on) -> sepa.PaymentFile:
    """The program's payouts paid on `paid_on` as a pain.001 credit transfer: one transfer per
    artist, their payouts summed as the CSV batch sums them, to the IBAN on file.

    Only a treasurer of the program (or an operator) gets one: it holds whole IBANs. Only for
    a program in euros (SEPA). Refused as a whole, naming every artist without banking
    details (and a missing paying account), never written without them. The audit row (who,
    which batch, how many transfers, the total, the message id and the file's SHA-256) is
    committed before the file is returned."""
    access.require(actor, access.Action.READ_BANK_DETAILS, program.pk)
    if program.currency != sepa.CURRENCY:
        raise ValidationFailed(
            f"A pain.001 payment file is a SEPA credit transfer, in EUR only; this program "
            f"pays in {program.currency}: download the CSV batch instead.",
            field="format",
        )
    # One transaction: the batch, the IBANs read and the audit row are of one moment, and
    # the row is committed before the file is returned.
    with transaction.atomic():
        lines = list(payout_batch_lines(payout_batch(program, paid_on=paid_on)))
        if not lines:
            raise EmptyBatch(f"No payouts of this program were paid on {paid_on.isoformat()}.")
        details = BankDetails.objects.in_bulk([line.artist.pk for line in lines])
        payer = payer_account_of(program)
        problems = missing_details(payer, lines, details)
        if problems:
            raise PaymentFileRefused(
                f"The payment file was not written: {len(problems)} "
                f"{'thing needs' if len(problems) == 1 else 'things need'} fixing first.",
                problems=problems,
            )
        transfers = [
            sepa.Transfer(
                name=sepa.printable(str(line.artist))
                or sepa.printable(line.artist.username)
                or f"Artist {line.artist.pk}",
                iban=details[line.artist.pk].iban,
                bic=details[line.artist.pk].bic,
                amount_minor=line.total_minor,
                end_to_end_id=sepa.end_to_end_id(program.pk, line.artist.pk, paid_on),
                remittance=f"{program.name}: {line.references}",
            )
            for line in lines
        ]
        written = sepa.write(
            program_id=program.pk,
            debtor_name=sepa.printable(payer.name)
            or sepa.printable(program.name)
            or f"Program {program.pk}",
            debtor_iban=payer.iban,
            debtor_bic=payer.bic,
            paid_on=paid_on,
            transfers=transfers,
        )
        audit.record(
            actor=actor,
            action="payout.payment_file",
            obj=program,
            program=program,
            format=sepa.SCHEMA,
            paid_on=paid_on,
            transfers=written.transfers,
            total_minor=written.total_minor,
            message_id=written.message_id,
            sha256=written.sha256,
        )
    return written


def missing_details(payer, lines, details: dict) -> list[tuple[str, str]]:
    """What keeps a payment file from being written, as (field, message): the program's
    paying account, then each artist of the batch without an IBAN on file."""
    problems = []
    if payer is None:
        problems.append(
            (
                "payer_account",
                "The program has no paying account: a manager sets its payer name and IBAN "
                "in the program's settings.",
            )
        )
    for line in lines:
        if line.artist.pk not in details:
            problems.append(
                (
                    "artist",
                    f"{line.artist} (id {line.artist.pk}) has no IBAN on file: they add it "
                    "under Account, Bank details.",
                )
            )
    return problems
