"""axe-core over the pages outside ledger.web.urls that a person reads: the interactive API docs
(Swagger UI, /api/v1/docs/) and Django's admin sign-in, at phone and desktop width, light and
dark, with the same helper and rules as the sweep in test_axe.py.

The docs are checked in each state a developer brings them to, because Swagger UI renders
most of its markup only on demand: as loaded; with operations open in "Try it out", a request
executed, another refused for a missing parameter and a schema expanded; and with the
Authorize dialog open. The test also holds what the accessibility repairs must not cost:
every operation of the schema is on the page, a request can still be tried, and deep links
still open an operation.
"""

import pytest
from playwright.sync_api import expect

from tests.conftest import make_program
from tests.web.test_axe import COMBOS, axe, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = "/api/v1/docs/"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _new_page(browser, live_server, errors):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=live_server.url,
        reduced_motion="reduce",  # colours measured at rest, not mid-transition
    )
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page


def _sweep(page, state):
    problems = []
    for width, scheme in COMBOS:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        problems += [f"{state} at {width}px {scheme}: {p}" for p in axe(page)]
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


def test_api_docs_have_no_serious_axe_violation_in_any_state(browser, live_server, admin):
    make_program(admin)  # so an executed list request shows a real body
    errors = []
    context, page = _new_page(browser, live_server, errors)
    sign_in(page, admin)  # the docs' requests then run with the session, as in use
    schema = page.request.get("/api/v1/schema/", headers={"Accept": "application/json"}).json()
    operations = sum(1 for item in schema["paths"].values() for method in item if method in METHODS)

    page.goto(DOCS)
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    # Every operation of the schema can be read on the page.
    expect(page.locator(".opblock")).to_have_count(operations)
    problems = _sweep(page, "loaded")

    # A request body editor in "Try it out".
    create = page.locator("#operations-programs-programs_create")
    create.locator(".opblock-summary-control").click()
    create.get_by_role("button", name="Try it out").click()
    expect(create.get_by_role("textbox", name="Request body")).to_be_visible()
    # A request tried for real: its curl, URL, status and body are shown.
    listing = page.locator("#operations-programs-programs_list")
    listing.locator(".opblock-summary-control").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    expect(listing.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    # A request refused before it is sent: a required parameter left empty.
    retrieve = page.locator("#operations-programs-programs_retrieve")
    retrieve.locator(".opblock-summary-control").click()
    retrieve.get_by_role("button", name="Try it out").click()
    retrieve.get_by_role("button", name="Execute").click()
    expect(retrieve.get_by_role("textbox", name="id (path)")).to_have_class("invalid")
    # A schema expanded.
    page.locator("section.models .model-box-control").first.click()
    problems += _sweep(page, "operations open and executed")

    page.get_by_role("button", name="Authorize").first.click()
    expect(page.locator(".modal-ux")).to_be_visible()
    problems += _sweep(page, "Authorize dialog")
    page.get_by_role("button", name="Close dialog").click()
    expect(page.locator(".modal-ux")).to_have_count(0)
    context.close()
    assert errors == []
    assert problems == [], "\n".join(problems)


def test_api_docs_deep_links_still_open_an_operation(browser, live_server):
    """The path inside each operation's summary button is no longer a link (a link inside a
    button is one control inside another), yet opening an operation still puts its address in
    the location bar, and that address opens it again."""
    errors = []
    context, page = _new_page(browser, live_server, errors)
    page.goto(DOCS)
    summary = page.locator("#operations-programs-programs_list .opblock-summary-control")
    summary.click()
    expect(summary).to_have_attribute("aria-expanded", "true")
    expect(page).to_have_url(f"{live_server.url}{DOCS}#/programs/programs_list")
    assert summary.locator("a[href], [tabindex]:not([tabindex='-1'])").count() == 0

    page.goto(f"{DOCS}#/payouts/payouts_list")
    page.reload()
    expect(
        page.locator("#operations-payouts-payouts_list .opblock-summary-control")
    ).to_have_attribute("aria-expanded", "true")
    context.close()
    # Swagger UI's own notice on any deep link with "_" in it (drf-spectacular's operation ids
    # all have one), whether the path was a link or not.
    assert [e for e in errors if not e.startswith("Deprecated: escaping deep link")] == []


def test_admin_login_has_no_serious_axe_violation(browser, live_server):
    context, page = _new_page(browser, live_server, [])
    response = page.goto("/admin/login/")
    assert response.status == 200
    problems = _sweep(page, "/admin/login/")
    context.close()
    assert problems == [], "\n".join(problems)
