"""Deadlines in a real browser: an artist's work goes overdue and says so on their home and on
the public page; the program's automatic acceptance then accepts it."""

import datetime as dt
import os

import pytest
from playwright.sync_api import expect

from ledger import clock, services
from tests.conftest import TODAY, accepted_work, log_feedback, make_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("LEDGER_SCREENSHOTS")  # a directory: keep screenshots for a look


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def days_ago(n):
    return dt.datetime.combine(TODAY - dt.timedelta(days=n), dt.time(12), tzinfo=dt.UTC)


def test_artist_home_shows_overdue_work_until_the_system_accepts_it(
    open_page, admin, artist, settings
):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 1
    program = make_program(admin, public=True)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    with clock.frozen(days_ago(45)):
        accepted_work(program, artist, admin, "2.00")  # $90.00, unpaid for 45 days
    with clock.frozen(days_ago(20)):  # due 6 days ago
        work = log_feedback(program, artist, "1.00")
    due = (TODAY - dt.timedelta(days=6)).isoformat()

    page = open_page(artist)
    section = page.get_by_role("region", name="Your work waiting past its review deadline")
    expect(section).to_contain_text("Feedback session")
    expect(section).to_contain_text(f"Review overdue due {due}")
    expect(page.get_by_test_id(f"overdue-{program.pk}")).to_contain_text("$90.00")
    shot(page, "home-artist")
    section.get_by_role("link", name="Feedback session").click()
    expect(page.locator("h1")).to_have_text("Feedback session")
    expect(page.locator(".facts")).to_contain_text(f"{due} (overdue)")

    public = open_page()
    public.goto(f"/programs/{program.pk}/transparency/")
    expect(public.get_by_test_id("overdue-outstanding")).to_contain_text("$90.00")
    expect(public.get_by_test_id("reviews-overdue")).to_contain_text("1")
    shot(public, "transparency")

    services.update_program(actor=admin, program=program, auto_accept_overdue=True)
    assert services.apply_deadlines().accepted == [work.pk]
    page.goto("/")
    expect(
        page.get_by_role("region", name="Your work waiting past its review deadline")
    ).to_have_count(0)
    page.goto(f"/contributions/{work.pk}/")
    expect(page.locator(".timeline")).to_contain_text("Accepted by the system")
    expect(page.locator(".timeline")).to_contain_text(f"not reviewed by its due date, {due}")


def test_review_queue_flags_overdue_work_for_staff(open_page, admin, artist, program):
    with clock.frozen(days_ago(30)):
        late = log_feedback(program, artist)
    log_feedback(program, artist, "3.00")
    page = open_page(admin, width=390)
    page.goto("/review/")
    expect(page.locator(f"#row-{late.pk}")).to_contain_text("Review overdue")
    expect(page.locator("hgroup")).to_contain_text("1 past its review deadline")
    shot(page, "review-queue-phone")
    page.get_by_label("Only overdue").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
