"""Banking details as the ledger keeps them: IBAN and BIC checked with `schwifty`, normalised
(no spaces, upper case) and masked whenever they are shown.

One home for the rules on the values themselves; who may read them is `ledger.access`
(`sees_bank_details`), and storing them (encrypted, with an audit row) is the services'.
"""

from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from ledger.errors import ValidationFailed

MASK = "•••• "  # what stands for every character but the last four


def mask(value: str) -> str:
    """`"•••• 3000"` for `"DE89370400440532013000"`: the last four characters, never more; the
    length is hidden too. Empty stays empty (nothing on file)."""
    return f"{MASK}{value[-4:]}" if value else ""


def _compact(value: str) -> str:
    return "".join(value.split()).upper()


@dataclass(frozen=True)
class Account:
    iban: str
    bic: str  # empty: none given and none derivable (a SEPA transfer needs only the IBAN)


@sensitive_variables()  # error reports show no local of it (the values)
def check_account(iban: str, bic: str = "", *, iban_field="iban", bic_field="bic") -> Account:
    """The IBAN and BIC normalised, or ValidationFailed naming the field.

    The BIC is optional: without one, the bank's BIC is derived from the IBAN when schwifty's
    bank registry knows it (else left empty: SEPA transfers route on the IBAN alone). A BIC
    given must be valid and of the IBAN's country, which catches a BIC pasted from another
    account."""
    try:
        parsed = IBAN(_compact(iban))
    except SchwiftyException as error:
        raise ValidationFailed(f"Not a valid IBAN: {_reason(error)}.", field=iban_field) from None
    if not bic.strip():
        derived = parsed.bic
        return Account(parsed.compact, derived.compact if derived is not None else "")
    try:
        parsed_bic = BIC(_compact(bic))
    except SchwiftyException:
        raise ValidationFailed(
            "Not a valid BIC: 8 or 11 letters and digits with a known country, e.g. COBADEFFXXX.",
            field=bic_field,
        ) from None
    if parsed_bic.country_code != parsed.country_code:
        raise ValidationFailed(
            f"This BIC is of a bank in {parsed_bic.country_code}, the IBAN of an account in "
            f"{parsed.country_code}: give the BIC of the IBAN's bank (or none).",
            field=bic_field,
        )
    return Account(parsed.compact, parsed_bic.compact)


# schwifty's own messages may repeat the input (which then reaches logs and screens): each
# kind of error gets a message of ours instead.
_REASONS = {
    "InvalidChecksumDigits": "its check digits do not match (a typo?)",
    "InvalidCountryCode": "its country code is unknown",
    "InvalidLength": "its length is wrong for its country",
    "InvalidStructure": "it has characters or a layout such a code cannot have",
    "InvalidBankCode": "its bank code is unknown",
    "InvalidBranchCode": "its branch code is unknown",
    "InvalidAccountCode": "its account number is invalid",
}


def _reason(error: SchwiftyException) -> str:
    for cls in type(error).__mro__:
        if cls.__name__ in _REASONS:
            return _REASONS[cls.__name__]
    return "it does not check out"
