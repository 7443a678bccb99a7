"""Fixtures for the page tests. Browser tests drive Debian's chromium (never a downloaded one)."""

import os
import shutil

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

# Playwright's sync API keeps an event loop in the test thread; Django refuses database access
# from such a thread unless told it is safe (it is: the test thread is not serving requests).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (scripts/setup installs Debian's chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def client_for(client):
    """`client_for(user)`: the test client signed in as `user`."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def open_page(browser, live_server):
    """`open_page(user=None, width=1280, scheme="light")`: a fresh, signed-in browser tab."""
    contexts, problems = [], []

    def watch(page):
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text} on {page.url}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc} on {page.url}"))

    def make(user=None, *, width=1280, scheme="light"):
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            color_scheme=scheme,
            base_url=live_server.url,
        )
        contexts.append(context)
        page = context.new_page()
        watch(page)
        if user is not None:
            page.goto("/login/")
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(PASSWORD)
            page.locator("main").get_by_role("button", name="Sign in").click()
            expect(page.locator("h1")).not_to_have_text("Sign in")
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []
