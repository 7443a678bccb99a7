"""Fixtures for the page tests. Browser tests drive Debian's chromium (never a downloaded one)."""

import os
import shutil

import pytest

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
