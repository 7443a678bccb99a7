"""The pages in a real browser (Debian's chromium through Playwright) against a live server.

Every page opened here is watched: a console error or an uncaught script error anywhere
(a CSP violation, a missing file, a broken script) fails the test that opened it.
"""

import re

import pytest
from playwright.sync_api import expect

from ledger import clock, services
from ledger.models import Contribution, Payout
from ledger.services import imports
from tests.api.roles_world import csv_upload
from tests.conftest import DE, accepted_work, log_bug, log_feedback, make_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_artist_logs_feedback_admin_accepts_balance_shows_it(open_page, admin, artist, program):
    page = open_page(artist)
    page.get_by_role("link", name="Log work").click()
    expect(page.locator("h1")).to_have_text("Log feedback hours")
    page.get_by_label("Program").select_option(str(program.pk))
    page.get_by_label("Title").fill("Brush engine session")
    page.get_by_label("Hours").fill("2.5")
    page.get_by_label("Hours").press("Tab")
    # The rate that will apply, fetched by htmx into a live region: 2.5 h × $45.00.
    expect(page.locator("#rate-preview")).to_contain_text("$112.50")
    page.get_by_role("button", name="Log feedback").click()
    expect(page.locator("h1")).to_have_text("Brush engine session")
    expect(page.locator(".status")).to_have_text("Submitted")

    admin_page = open_page(admin)
    admin_page.get_by_role("link", name="Review").first.click()
    work = Contribution.objects.get(title="Brush engine session")
    row = admin_page.locator(f"#row-{work.pk}")
    row.get_by_role("button", name=re.compile("^Accept")).click()
    expect(admin_page.locator(f"#row-{work.pk}")).to_contain_text("Accepted")
    expect(admin_page.locator(f"#row-{work.pk}")).to_contain_text("$112.50")
    expect(admin_page.locator("#queue-status")).to_contain_text("Accepted")

    page.goto("/")
    expect(page.get_by_test_id(f"outstanding-{program.pk}")).to_have_text("$112.50")
    page.goto(f"/contributions/{work.pk}/")
    expect(page.locator(".timeline")).to_contain_text(f"Accepted by {admin}")

    # Sign out (a POST form in the header).
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Sign in")


def test_admin_pays_a_settlement(open_page, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00 owed
    page = open_page(admin)
    page.goto(f"/payouts/?program={program.pk}")
    page.get_by_role("link", name=f"Settle {artist} in {program.name}").click()
    expect(page.get_by_label("Settlement")).to_be_checked()
    page.get_by_label("Amount").fill("90")
    page.get_by_role("button", name="Review payment").click()
    expect(page.locator("h1")).to_have_text("Confirm payment")
    expect(page.locator("main")).to_contain_text("$90.00")
    assert not Payout.objects.exists()
    page.get_by_role("button", name="Confirm and record").click()
    expect(page.locator("#messages")).to_contain_text("Recorded a settlement")
    payout = Payout.objects.get()
    assert (payout.kind, payout.amount_minor, payout.artist) == ("settlement", 9000, artist)


def test_over_settlement_shows_the_error_and_writes_nothing(open_page, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00 owed
    page = open_page(admin, width=390)
    page.goto(f"/payouts/new/?program={program.pk}&artist={artist.pk}")
    page.get_by_label("Amount").fill("150")
    page.get_by_role("button", name="Review payment").click()
    amount = page.get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_amount_error")).to_contain_text("exceeds")
    expect(page.locator("#id_amount_error")).to_contain_text("90.00")
    expect(amount).to_be_focused()
    assert not Payout.objects.exists()


def test_transparency_page_shows_the_programs_figures(open_page, settings, admin, artist, artist2):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 2
    program = make_program(admin, public=True)
    for person, hours in ((artist, "2.00"), (artist2, "4.00")):
        services.enroll_artist(actor=admin, program=program, artist=person)
        accepted_work(program, person, admin, hours=hours)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=9000, kind="settlement"
    )
    page = open_page()  # anonymous
    page.goto("/transparency/")
    page.get_by_role("link", name=program.name).click()
    expect(page.get_by_test_id("contributors")).to_have_text("2")
    expect(page.get_by_test_id("valued")).to_have_text("$270.00")
    expect(page.get_by_test_id("outstanding")).to_have_text("$180.00")
    expect(page.locator("main")).to_contain_text("33.3 %")
    expect(page.get_by_test_id("head-hash")).to_have_text(re.compile("^[0-9a-f]{64}$"))
    expect(page.locator("svg.chart-svg title")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text(str(artist))


def test_skip_link_moves_focus_to_the_content(open_page, artist, program):
    page = open_page(artist)
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize(
    ("width", "scheme"), [(390, "light"), (390, "dark"), (1280, "light"), (1280, "dark")]
)
def test_main_pages_fit_the_screen_without_console_errors(
    open_page, admin, artist, program, width, scheme, settings
):
    work = accepted_work(program, artist, admin)
    log_bug(program, artist)
    log_feedback(program, artist)
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="grant"
    )
    public = make_program(admin, public=True, currency="JPY")
    # The integrations' pages: a webhook with a delivery log, an import whose rows failed
    # (its error table), banking details on file.
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = True
    hook = services.create_subscription(
        actor=admin, program=program, url="http://127.0.0.1:9/hooks", events=["payout.paid"]
    )
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=500, kind="grant"
    )
    day = clock.today().isoformat()
    rows = f"{artist.username},feedback,A title long enough to wrap on a phone,{day},,,,\n"
    job = imports.start_import(actor=admin, program=program, upload=csv_upload(rows))
    imports.run(job.pk)
    services.set_bank_details(actor=artist, user=artist, iban=DE)
    pages = {
        None: ["/login/", "/transparency/", f"/programs/{public.pk}/transparency/"],
        artist: [
            "/",
            "/contributions/",
            "/contributions/new/feedback/",
            "/contributions/new/bug-report/",
            f"/contributions/{work.pk}/",
            f"/programs/{program.pk}/statement/",
            "/programs/",
            "/password/",
            "/tokens/",
            "/account/bank/",
        ],
        admin: [
            "/",
            "/review/",
            "/payouts/",
            "/payouts/new/",
            "/programs/",
            "/programs/new/",
            f"/programs/{program.pk}/",
            f"/programs/{program.pk}/statement/?artist={artist.pk}",
            f"/programs/{program.pk}/transparency/",
            f"/contributions/{work.pk}/",
            "/contributions/",
            f"/programs/{program.pk}/settings/",
            f"/programs/{program.pk}/webhooks/",
            f"/programs/{program.pk}/webhooks/{hook.pk}/",
            f"/programs/{program.pk}/imports/",
            f"/imports/{job.pk}/",
        ],
    }
    for user, urls in pages.items():
        page = open_page(user, width=width, scheme=scheme)
        for url in urls:
            response = page.goto(url)
            assert response.status == 200, url
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{url} overflows by {overflow}px at {width}px ({scheme})"
            expect(page.locator("h1")).to_have_count(1)


def test_pay_form_shows_owed_and_confirms_once_at_390px(open_page, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # $90.00 owed; artist2 is owed nothing
    page = open_page(admin, width=390)
    page.goto(f"/payouts/new/?program={program.pk}&artist={artist.pk}")
    owed = page.get_by_test_id("owed-now")
    expect(owed).to_contain_text("$90.00 owed to the artist")
    page.get_by_label("Artist").select_option(label="Artist2")
    expect(owed).to_contain_text("Nothing owed")
    page.get_by_label("Artist").select_option(label="Artist1")
    expect(owed).to_contain_text("$90.00 owed to the artist")
    page.get_by_label("Amount").fill("60")
    page.get_by_role("button", name="Review payment").click()
    expect(page.get_by_test_id("owed-after")).to_have_text("$30.00 owed to the artist")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.get_by_role("button", name="Confirm and record").dblclick()
    expect(page.locator("#messages")).to_contain_text("settlement of $60.00")
    assert Payout.objects.count() == 1
    # Back to the confirm page and send it again: still one payout, and the page says so.
    page.go_back()
    page.get_by_role("button", name="Confirm and record").click()
    expect(page.locator("#messages")).to_contain_text("not recorded again")
    assert Payout.objects.count() == 1
