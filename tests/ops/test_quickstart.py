"""The quick start (`make run`: scripts/run → runserver with no settings in the environment)
shows visitors the site's own error pages; Django's debug pages only on request."""

import os
import re
import subprocess
import time

import pytest

from tests.ops.helpers import PYTHON, ROOT, database_url, settings_of
from tests.ops.servers import free_port, request


def quickstart_env(**extra) -> dict[str, str]:
    """The environment `make run` gives the server: none of the project's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AXES_", "PYTEST_", "LEDGER_", "REDIS_"))
    }
    return env | extra


@pytest.mark.django_db(transaction=True)
def test_quickstart_404_is_the_sites_own_page_and_fits_a_phone():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=quickstart_env(DATABASE_URL=database_url()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                status, _, body = request("GET", f"{base}/programs/999999/transparency/")
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver did not answer within 60 s"
                time.sleep(0.3)
        assert status == 404
        assert "<h1>Page not found</h1>" in body
        # Django's debug 404 names the URLconf and lists every pattern.
        for debug_marker in ("URLconf", "ledger.urls", "DEBUG = True", "transparency/<"):
            assert debug_marker not in body
        # Fits 390 px: a device-width viewport, and a stylesheet with no fixed width.
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', body).group(1)
        css_status, _, css = request("GET", base + stylesheet)
        assert css_status == 200  # the quick start serves static files
        widths = re.findall(r"(?<![-\w])(?:min-)?width:\s*([^;]+);", css)
        assert widths == [], widths  # only max-width, which shrinks to the screen
        assert "max-width: 36rem" in css

        status, _, body = request("GET", f"{base}/no/such/page")
        assert status == 404 and "URLconf" not in body and "Page not found" in body
    finally:
        server.terminate()
        server.communicate(timeout=15)


def test_debug_pages_only_when_a_developer_asks():
    names = ["DEBUG", "SESSION_COOKIE_SECURE", "WHITENOISE_USE_FINDERS"]
    assert settings_of(quickstart_env(), names) == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": False,  # still development: plain HTTP works
        "WHITENOISE_USE_FINDERS": True,
    }
    assert settings_of(quickstart_env(DJANGO_DEBUG_PAGES="true"), ["DEBUG"])["DEBUG"] is True
    production = quickstart_env(
        DJANGO_DEBUG="false", DJANGO_DEBUG_PAGES="true", DJANGO_SECRET_KEY="x" * 60
    )
    assert settings_of(production, ["DEBUG"])["DEBUG"] is False  # never in production
