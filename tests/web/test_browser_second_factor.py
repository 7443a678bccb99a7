"""Two-factor sign-in in a real browser (Debian's chromium): a staff member made to enrol
scans nothing but reads the setup key, confirms with a code, saves the recovery codes, signs
out and back in with a code, and later with a recovery code. axe-core checks every step at
phone and desktop width, light and dark; the strict CSP stays on throughout (any violation is
a console error, which fails the test)."""

import re

import pytest
from playwright.sync_api import expect

from ledger import services
from tests.factories import PASSWORD, UserFactory
from tests.second_factor import key_from_setup_text
from tests.web.test_axe import COMBOS, axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reviewer(admin, program):
    user = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=user, role="reviewer")
    return user


@pytest.fixture
def new_page(browser, live_server):
    contexts, errors = [], []

    def make():
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            base_url=live_server.url,
            reduced_motion="reduce",
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == []


def sweep(page, where, problems):
    """axe at the four widths and schemes, on the page as loaded."""
    for width, scheme in COMBOS:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        problems += [f"{where} at {width}px {scheme}: {p}" for p in axe(page)]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")


def password_step(page, user, path="/login/"):
    page.goto(path)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()


def test_enrol_then_sign_in_with_a_code(new_page, reviewer, settings, otp_clock):
    settings.LEDGER_STAFF_REQUIRE_2FA = True
    problems = []
    page = new_page()

    # Staff are sent from the page they asked for to enrolment.
    password_step(page, reviewer, "/login/?next=/review/")
    expect(page.locator("h1")).to_have_text("Set up two-factor sign-in")
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 150 and abs(box["width"] - box["height"]) < 1
    sweep(page, "enrol", problems)
    # Dark mode does not invert the code: phones read dark modules on a light ground.
    page.emulate_media(color_scheme="dark")
    assert qr.locator("rect").evaluate("el => getComputedStyle(el).fill") == "rgb(255, 255, 255)"
    assert qr.locator("path").evaluate("el => getComputedStyle(el).fill") == "rgb(0, 0, 0)"
    page.emulate_media(color_scheme="light")

    key = key_from_setup_text(page.get_by_label("Setup key").input_value())
    page.get_by_label("Code from your app").fill(otp_clock.wrong_code(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#id_code_error")).to_contain_text("does not match")
    expect(page.get_by_label("Code from your app")).to_have_attribute(
        "aria-describedby", "id_code_error id_code_helptext"
    )
    sweep(page, "enrol with an error", problems)

    page.get_by_label("Code from your app").fill(otp_clock.code(key))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("h1")).to_have_text("Two-factor sign-in")
    codes = page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    sweep(page, "recovery codes", problems)
    page.get_by_role("button", name="I have saved them, continue").click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.locator("h1")).not_to_have_text("Set up two-factor sign-in")

    page.get_by_role("button", name="Sign out").click()
    password_step(page, reviewer)
    expect(page.locator("h1")).to_have_text("Enter your code")
    sweep(page, "code step", problems)
    page.get_by_label("Code").fill(otp_clock.wrong_code(key))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#id_code_error")).to_contain_text("not valid")
    sweep(page, "code step with an error", problems)
    page.get_by_label("Code").fill(otp_clock.code(key))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("h1")).not_to_have_text("Enter your code")
    page.goto("/account/two-factor/")
    expect(page.locator("#status-heading")).to_have_text("On")
    sweep(page, "two-factor page, on", problems)

    # Another browser, the phone at home: a recovery code, once.
    other = new_page()
    password_step(other, reviewer)
    other.get_by_label("Code").fill(codes[0])
    other.get_by_role("button", name="Verify").click()
    expect(other.locator(".message-warning")).to_contain_text("9 left")
    assert problems == [], "\n".join(problems)
