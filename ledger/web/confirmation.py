"""Single-use confirmation for the pay page, and once-only decisions on proposed payouts.

The review step issues a token signed over what it shows: who reviews, a random nonce and a
fingerprint of the payout's fields. The confirm step claims the nonce as an idempotency key
(`ledger.api.idempotency.run_once`, the API's own machinery) in the same transaction as
`record_payout`, so a double click, a resubmitted form or two tabs confirming at once record
one payout, and every later confirm is shown that payout instead of recording another.

The token is refused after the keys' retention, so a key is never forgotten while a form that
could claim it is still accepted; the signature keeps a confirm from carrying other fields
than the ones reviewed.

A treasurer's approval or decline of a proposal (`decide_once`) needs no token: a person
decides a given proposal at most once, so the key is the decision and the payout itself, and
a second click replays the first instead of meeting "this payout is paid" as an error.
"""

import hashlib
import json
import secrets

from django.core import signing

from ledger.api.idempotency import KeyInProgress, retention, run_once
from ledger.models import Payout

_SALT = "ledger.web.payout-confirmation"
# Keys share the user's Idempotency-Key namespace; the prefix keeps them apart from API keys.
_KEY_PREFIX = "page:payout:"
_DECISION_PREFIX = "page:payout-decision:"


class Stale(Exception):
    """The token is missing, forged, expired, another user's or for other payout fields."""


class InProgress(Exception):
    """Another confirm of the same token is still recording (the wait for it timed out)."""


def fingerprint(data: dict) -> str:
    """SHA-256 of the payout's fields as the form cleaned them (amount in minor units)."""
    fields = {
        "program": data["program"].pk,
        "artist": data["artist"].pk,
        "kind": data["kind"],
        "amount_minor": data["amount_minor"],
        "paid_on": data["paid_on"].isoformat(),
        "method": data["method"],
        "reference": data["reference"],
        "note": data["note"],
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def issue(user, data: dict) -> str:
    """A token that confirms exactly this payout, once, for `user`."""
    claim = {"u": user.pk, "n": secrets.token_hex(16), "f": fingerprint(data)}
    return signing.dumps(claim, salt=_SALT)


def redeem(user, token: str, data: dict, record) -> tuple[Payout, bool]:
    """Run `record()` (which records the payout) at most once for `token`.

    Returns (payout, True) when this call recorded it, (payout, False) when an earlier confirm
    of the same token did. Domain errors from `record()` roll back the claim too, so the same
    token may be confirmed again once the problem is fixed.
    """
    fp = fingerprint(data)
    try:
        claim = signing.loads(token, salt=_SALT, max_age=retention())
    except signing.BadSignature:  # also SignatureExpired
        raise Stale() from None
    if not isinstance(claim, dict) or claim.get("u") != user.pk or claim.get("f") != fp:
        raise Stale()

    def work():
        payout = record()
        return payout, 201, {"payout": payout.pk}

    try:
        payout, earlier = run_once(user, _KEY_PREFIX + str(claim.get("n")), fp, work)
    except KeyInProgress:
        raise InProgress() from None
    if earlier is None:
        return payout, True
    earlier_payout = Payout.objects.select_related("program", "artist")
    return earlier_payout.get(pk=earlier.response_body["payout"]), False


def decide_once(user, payout: Payout, decision: str, decide) -> tuple[Payout, bool]:
    """Run `decide()` (which approves or declines `payout` as `user`) at most once for this
    user, payout and `decision` ("approve" or "decline").

    Returns (payout, True) when this call decided it, (payout, False) when an earlier submit
    of the same decision did (a double click, a resubmitted form, two tabs). A domain error
    from `decide()` (an approval refused for the balance, say) rolls the claim back too, so
    the decision may be tried again.
    """
    key = f"{_DECISION_PREFIX}{decision}:{payout.pk}"
    fp = hashlib.sha256(key.encode()).hexdigest()

    def work():
        decided = decide()
        return decided, 200, {"payout": decided.pk}

    try:
        decided, earlier = run_once(user, key, fp, work)
    except KeyInProgress:
        raise InProgress() from None
    if earlier is None:
        return decided, True
    return Payout.objects.select_related("program", "artist").get(pk=payout.pk), False
