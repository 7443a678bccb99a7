"""A bulk import in a real browser: upload a file for a dry run, watch the progress bar
(polled by htmx) reach 100% while a worker runs the job, then read the result."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from ledger import clock, services
from ledger.models import ImportJob
from ledger.services import imports
from tests.api.roles_world import IMPORT_HEADER
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Tasks wait in the queue until the test runs them, as a worker on another machine would.
QUEUED_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def test_upload_watch_the_progress_bar_then_the_result(
    open_page, admin, program, settings, tmp_path
):
    settings.TASKS = QUEUED_TASKS
    reviewer = UserFactory(username="reviewer1")
    services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    day = (clock.today() - dt.timedelta(days=1)).isoformat()
    file = tmp_path / "work.csv"
    rows = "".join(f"artist1,feedback,Notes {n},{day},1,,T-{n},\n" for n in range(2500))
    file.write_text(IMPORT_HEADER + rows)

    page = open_page(reviewer)
    page.goto(f"/programs/{program.pk}/imports/")
    expect(page.get_by_label("Dry run: check every row, write nothing")).to_be_checked()
    page.get_by_label("CSV file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and check").click()
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("value", "0")
    expect(page.get_by_role("heading", level=2)).to_have_text("Queued")

    imports.run(ImportJob.objects.get().pk)  # the worker
    expect(bar).to_have_attribute("value", "100")
    expect(page.locator("#import-announce")).to_have_text(
        "Dry run finished: 2500 to create, 0 to skip, no errors."
    )
    expect(page.get_by_role("heading", level=2)).to_have_text("Succeeded")
    expect(page.get_by_role("button", name="Import for real")).to_be_visible()
