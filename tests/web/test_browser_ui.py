"""Details of the pages that only a browser can check: the chart legend's line styles and the
token secret's font and Copy button."""

import pytest
from playwright.sync_api import expect

from ledger import services
from tests.conftest import accepted_work
from tests.web.test_axe import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page_for(browser, live_server):
    contexts, errors = [], []

    def make(user, **options):
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, user)
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == []


STROKE = "(el) => getComputedStyle(el).strokeDasharray + ' ' + getComputedStyle(el).stroke"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_legend_swatches_match_their_lines(page_for, admin, artist, program, scheme):
    accepted_work(program, artist, admin)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
    )
    page = page_for(artist, color_scheme=scheme)
    page.goto("/")
    chart = page.locator("figure.chart").first
    for series in ("valued", "paid"):
        line = chart.locator(f"polyline.chart-{series}").evaluate(STROKE)
        swatch = chart.locator(f"figcaption line.chart-{series}").evaluate(STROKE)
        assert swatch == line, series
    # The Paid line is the dashed one, and so is its swatch.
    assert chart.locator("figcaption line.chart-paid").evaluate(STROKE).startswith("6px, 3px")
    assert chart.locator("figcaption line.chart-valued").evaluate(STROKE).startswith("none")


def test_token_secret_is_monospace_and_the_copy_button_copies_it(page_for, artist):
    page = page_for(artist, permissions=["clipboard-read", "clipboard-write"])
    page.goto("/tokens/")
    page.get_by_label("Name").fill("sync")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="Token")
    value = secret.input_value()
    assert len(value) > 20
    font = secret.evaluate("(el) => getComputedStyle(el).fontFamily").lower()
    assert "mono" in font, font
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == value
