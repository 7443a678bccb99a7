"""Helpers for the page tests: form errors, an admin's own work, the pay page's two steps, and
what a page offers (its buttons, the reasons it gives instead, its navigation)."""

import re
from decimal import Decimal
from html.parser import HTMLParser

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


class _Buttons(HTMLParser):
    """Collects each <button>'s text (hidden parts included) and whether it is disabled."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, bool]] = []
        self._open: list | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "button":
            self._open = ["", "disabled" not in dict(attrs)]

    def handle_data(self, data):
        if self._open is not None:
            self._open[0] += data

    def handle_endtag(self, tag):
        if tag == "button" and self._open is not None:
            self.found.append((" ".join(self._open[0].split()), self._open[1]))
            self._open = None


def buttons(response) -> dict[str, bool]:
    """The page's buttons inside <main>: {text: enabled}. A text shown twice is enabled if
    any one of them is."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    parser = _Buttons()
    parser.feed(main)
    found: dict[str, bool] = {}
    for text, enabled in parser.found:
        found[text] = found.get(text, False) or enabled
    return found


def refusals(response) -> list[str]:
    """The reasons the page gives for writes it does not offer (`class="refusal"`)."""
    html = response.content.decode()
    return [
        " ".join(text.split()) for text in re.findall(r'class="refusal"[^>]*>(.*?)</', html, re.S)
    ]


def nav_links(response) -> list[str]:
    """The texts of the main navigation's links, in order."""
    html = response.content.decode()
    nav = re.search(r'<ul class="nav-links">(.*?)</nav>', html, re.S).group(1)
    return [" ".join(t.split()) for t in re.findall(r"<a [^>]*>([^<]+)</a>", nav)]
