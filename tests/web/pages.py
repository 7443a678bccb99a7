"""Helpers for the page tests: form errors, an admin's own work, the pay page's two steps."""

import re
from decimal import Decimal

from ledger import services
from tests.conftest import TODAY


def field_error(response, field: str) -> str:
    """The error text shown beside `field` (its `<small id="id_<field>_error">`)."""
    html = response.content.decode()
    match = re.search(rf'id="id_{re.escape(field)}_error">(.*?)</small>', html, re.S)
    assert match, f"no error shown beside {field!r}"
    return match.group(1)


def own_work(program, admin):
    """An admin enrolled as a member logs work for itself (which it may not review)."""
    services.enroll_artist(actor=admin, program=program, artist=admin)
    return services.submit_contribution(
        actor=admin,
        artist=admin,
        program=program,
        kind="feedback",
        title="My own work",
        occurred_on=TODAY,
        hours=Decimal("1.00"),
    )


def pay(client, program, artist, amount, kind="settlement", **extra):
    data = {
        "program": program.pk,
        "artist": artist.pk,
        "kind": kind,
        "amount": amount,
        "paid_on": TODAY.isoformat(),
        "method": "bank transfer",
        "reference": "",
        "note": "",
    } | extra
    return client.post("/payouts/new/", data)


def confirmation_of(response) -> str:
    """The single-use token the review step puts in its confirm form."""
    match = re.search(r'name="confirmation" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form"
    return match.group(1)
