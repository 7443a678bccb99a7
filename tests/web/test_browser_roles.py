"""Roles per program in a real browser: two treasurers for a large payout, a reviewer's own
work, a manager's staff and settings pages. Every page is watched for console errors (a
CSP violation, a missing file) by the `open_page` fixture (conftest.py)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from ledger import clock, services
from ledger.models import Payout, StaffRole
from tests.conftest import accepted_work
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(admin, artist, program):
    """Two treasurers, a reviewer who is also a member, a manager; approvals from $1,000."""
    people = {}
    for name, role in [
        ("tessa", "treasurer"),
        ("theo", "treasurer"),
        ("rita", "reviewer"),
        ("mona", "manager"),
    ]:
        people[name] = UserFactory(username=name)
        services.grant_role(actor=admin, program=program, user=people[name], role=role)
    services.update_program(actor=admin, program=program, approval_threshold_minor=100000)
    return people


def test_a_large_payout_needs_a_second_treasurer(open_page, team, artist, program):
    page = open_page(team["tessa"])
    page.get_by_role("link", name="Payouts", exact=True).click()
    page.get_by_role("button", name="Record a payment").click()
    page.get_by_label("Program").select_option(str(program.pk))
    page.get_by_label("Artist").select_option(str(artist.pk))
    expect(page.get_by_test_id("owed-now")).to_contain_text("$1,000.00 or more are proposed")
    page.get_by_label("Grant").check()
    page.get_by_label("Amount").fill("1500")
    page.get_by_role("button", name="Review payment").click()
    expect(page.get_by_test_id("proposed-notice")).to_contain_text("will be proposed, not paid")
    page.get_by_role("button", name="Confirm and propose").click()
    expect(page.locator("h1")).to_have_text("Proposed payouts")
    expect(page.locator("#messages")).to_contain_text("Proposed — waiting for a second treasurer")
    proposal = Payout.objects.get(artist=artist)
    assert proposal.status == "proposed"
    row = page.locator(f"#proposal-{proposal.pk}")
    approve = row.get_by_role("button", name=re.compile("^Approve"))
    expect(approve).to_be_disabled()
    expect(row.locator(".refusal")).to_have_text(
        "A payout is approved by a treasurer other than the one who proposed it."
    )
    expect(approve).to_have_accessible_description(
        "A payout is approved by a treasurer other than the one who proposed it."
    )

    second = open_page(team["theo"])
    second.get_by_role("link", name="Proposals").click()
    row = second.locator(f"#proposal-{proposal.pk}")
    expect(row).to_contain_text("$1,500.00")
    expect(row).to_contain_text(str(team["tessa"]))
    row.get_by_role("button", name=re.compile("^Approve")).click()
    expect(second.locator("#messages")).to_contain_text(f"Approved payout #{proposal.pk}")
    expect(second.locator(f"#proposal-{proposal.pk}")).to_have_count(0)
    proposal.refresh_from_db()
    assert proposal.status == "paid" and proposal.approved_by == team["theo"]
    second.goto(f"/payouts/{proposal.pk}/")
    expect(second.locator("dl.facts")).to_contain_text(f"Approved by{team['theo']}")


def test_a_reviewer_sees_why_it_cannot_accept_its_own_work(open_page, admin, team, program):
    rita = team["rita"]
    services.enroll_artist(actor=admin, program=program, artist=rita)
    own = services.submit_contribution(
        actor=rita, program=program, kind="feedback", title="My own session",
        occurred_on=clock.today(), hours=Decimal("1.00"),
    )  # fmt: skip
    page = open_page(rita)
    page.get_by_role("link", name="Review").first.click()
    row = page.locator(f"#row-{own.pk}")
    expect(row.get_by_role("button", name=re.compile("^Accept"))).to_be_disabled()
    expect(row.get_by_role("checkbox")).to_be_disabled()
    expect(row).to_contain_text("You cannot review your own work.")
    # "Select all" leaves the work the reviewer may not review unselected.
    page.locator("#select-all").check()
    expect(row.get_by_role("checkbox")).not_to_be_checked()
    row.get_by_role("link", name="My own session").click()
    expect(page.get_by_role("button", name="Accept", exact=True)).to_be_disabled()
    expect(page.locator("#review-refused")).to_have_text("You cannot review your own work.")


def test_a_manager_appoints_staff_and_sets_the_threshold(open_page, admin, team, artist, program):
    accepted_work(program, artist, admin)
    page = open_page(team["mona"])
    page.goto(f"/programs/{program.pk}/")
    page.get_by_role("navigation", name="Program administration").get_by_role(
        "link", name="Staff"
    ).click()
    expect(page.locator("h1")).to_have_text(f"Staff of {program.name}")
    page.get_by_label("Person").select_option(str(artist.pk))
    page.get_by_label("Role", exact=True).select_option("auditor")
    page.get_by_role("button", name="Grant role").click()
    expect(page.locator("#messages")).to_contain_text(f"{artist} is now auditor")
    role = StaffRole.objects.get(program=program, user=artist)
    page.get_by_role("link", name=f"Revoke auditor from {artist}").click()
    page.get_by_role("button", name=f"Revoke auditor from {artist}").click()
    expect(page.locator("#messages")).to_contain_text(f"{artist} is no longer auditor")
    assert not StaffRole.objects.filter(pk=role.pk).exists()

    page.goto(f"/programs/{program.pk}/settings/")
    page.get_by_label("Approval threshold").fill("abc")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#id_approval_threshold_error")).to_be_visible()
    expect(page.get_by_label("Approval threshold")).to_be_focused()
    page.get_by_label("Approval threshold").fill("2500")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("hgroup p")).to_contain_text("payouts of $2,500.00 or more")
    program.refresh_from_db()
    assert program.approval_threshold_minor == 250000
