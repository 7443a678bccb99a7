"""axe-core over every page, as every kind of visitor, at phone and desktop width, light and dark.

The page list is checked against the URL resolver: a new route is either swept here or named in
`NOT_PAGES` with the reason, so no page can escape. Each page is loaded once per visitor; the
four width/scheme combinations are then applied to that same load (viewport resize and
`prefers-color-scheme` emulation re-lay out and restyle without a reload), which keeps the whole
sweep to one browser and three contexts.

axe-core is vendored in static/vendor/axe-core/ and injected from the site's own origin, so the
Content-Security-Policy stays on while it runs. Besides axe, each combination checks two things
axe does not: no date is broken across lines, and chart labels stay readable (at least 11 px
once the SVG is scaled down) without overlapping.
"""

import datetime as dt

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from ledger import clock, services
from ledger.models import ImportJob, Notification
from ledger.services import imports
from ledger.web import urls as web_urls
from tests.api.roles_world import csv_upload
from tests.conftest import accepted_work, log_bug, log_feedback, make_program
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMBOS = [(390, "light"), (390, "dark"), (1280, "light"), (1280, "dark")]
BLOCKING = {"serious", "critical"}
AXE = "/static/vendor/axe-core/axe.min.js"

# Routes that are not pages a person looks at, with the reason.
NOT_PAGES = {
    "logout": "POST only (the Sign out button); a GET is refused",
    "rate_preview": "an htmx fragment, swept inside the log-work pages it is swapped into",
    "contribution_withdraw": "POST only",
    "contribution_accept": "POST only",
    "contribution_reject": "POST only; errors re-render the contribution page",
    "contribution_reverse": "POST only; errors re-render the contribution page",
    "review_bulk_accept": "POST only",
    "payout_approve": "POST only; the proposals page and the payout's page hold its button",
    "rate_card_new": "POST only; errors re-render the program page",
    "member_new": "POST only; errors re-render the program page",
    "statement_csv": "a CSV download",
    "statement_pdf": "a PDF download",
    "journal_export": "a text download",
    "outstanding_csv": "a CSV download",
    "api_token_revoke": "POST only",
    "api_tokens_revoke_all": "POST only",
    "invitation_revoke": "POST only; answers with the invitations page",
    "two_factor_disable": "POST only; errors re-render the two-factor page",
    "two_factor_recovery": "POST only; the new codes show on the two-factor page",
    "notification_read": "POST only; answers with the inbox",
    "bank_details_remove": "POST only; answers with the bank details page",
    "notifications_read_all": "POST only; answers with the inbox",
    "payout_confirm": "POST only; the payout's page holds its button and shows the answer",
    "dispute_uphold": "POST only; errors re-render the dispute's page",
    "dispute_dismiss": "POST only; errors re-render the dispute's page",
    "dispute_withdraw": "POST only; answers with the dispute's page",
    "import_progress": "an htmx fragment, swept inside the import page it is swapped into",
    "import_run": "POST only; answers with the new import's page",
    "import_template": "a CSV download",
    "webhook_redeliver": "POST only; answers with the webhook's delivery log",
}


def _route_names(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _route_names(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name


def _pages(d):
    """{route name: [(visitor, path), ...]} for the data built by `site`."""
    p, pub, w = d["program"].pk, d["public"].pk, d["work"].pk
    return {
        "login": [("anonymous", "/login/")],
        "password_change": [("artist", "/password/"), ("admin", "/password/")],
        "password_change_done": [("artist", "/password/done/")],
        "home": [("artist", "/"), ("ahead", "/"), ("admin", "/")],
        "contribution_list": [
            ("artist", "/contributions/"),
            ("admin", "/contributions/"),
            ("artist", "/contributions/?overdue=on"),
        ],
        "log_feedback": [
            ("artist", "/contributions/new/feedback/"),
            ("admin", "/contributions/new/feedback/"),
        ],
        "log_bug": [("artist", "/contributions/new/bug-report/")],
        "contribution_detail": [
            ("artist", f"/contributions/{w}/"),
            ("admin", f"/contributions/{w}/"),
            ("admin", f"/contributions/{d['submitted'].pk}/"),
            ("admin", f"/contributions/{d['rejected'].pk}/"),
            ("artist", f"/contributions/{d['overdue'].pk}/"),
            ("admin", f"/contributions/{d['overdue'].pk}/"),
            ("artist", f"/contributions/{d['by_system'].pk}/"),
        ],
        "review_queue": [
            ("admin", "/review/"),
            ("treasurer", "/review/"),
            ("admin", "/review/?overdue=on"),
        ],
        "payouts": [("admin", "/payouts/")],
        "payout_new": [
            ("admin", "/payouts/new/"),
            ("admin", f"/payouts/new/?program={p}&artist={d['artist'].pk}"),
        ],
        "payout_void": [("admin", f"/payouts/{d['payout'].pk}/void/")],
        "payout_proposals": [
            ("admin", "/payouts/proposals/"),
            ("treasurer", "/payouts/proposals/"),
        ],
        "payout_detail": [
            ("admin", f"/payouts/{d['proposal'].pk}/"),
            ("treasurer", f"/payouts/{d['proposal'].pk}/"),
            ("admin", f"/payouts/{d['payout'].pk}/"),
            ("artist", f"/payouts/{d['payout'].pk}/"),
            ("artist", f"/payouts/{d['confirmed'].pk}/"),
        ],
        "payout_decline": [("treasurer", f"/payouts/{d['proposal'].pk}/decline/")],
        "payout_batch_csv": [
            ("admin", "/payouts/batch.csv"),
            # A payment file refused: who lacks banking details, the batch with IBANs masked.
            (
                "treasurer",
                f"/payouts/batch.csv?program={d['euro'].pk}&paid_on={clock.today()}"
                "&format=pain.001",
                409,
            ),
        ],
        "bank_details": [("artist", "/account/bank/"), ("ahead", "/account/bank/")],
        "program_list": [("artist", "/programs/"), ("admin", "/programs/")],
        "program_new": [("admin", "/programs/new/")],
        "program_detail": [
            ("artist", f"/programs/{p}/"),
            ("admin", f"/programs/{p}/"),
            ("treasurer", f"/programs/{p}/"),
        ],
        "program_staff": [
            ("admin", f"/programs/{p}/staff/"),
            ("treasurer", f"/programs/{p}/staff/"),
        ],
        "staff_revoke": [("admin", f"/programs/{p}/staff/{d['treasurer_role'].pk}/revoke/")],
        "program_settings": [
            ("admin", f"/programs/{p}/settings/"),
            ("admin", f"/programs/{d['euro'].pk}/settings/"),  # with a paying account
        ],
        "program_webhooks": [
            ("admin", f"/programs/{p}/webhooks/"),
            ("treasurer", f"/programs/{p}/webhooks/"),
        ],
        "webhook_detail": [
            ("admin", f"/programs/{p}/webhooks/{d['webhook'].pk}/"),
            ("treasurer", f"/programs/{p}/webhooks/{d['webhook'].pk}/"),
        ],
        "webhook_remove": [("admin", f"/programs/{p}/webhooks/{d['webhook'].pk}/remove/")],
        "statement": [
            ("artist", f"/programs/{p}/statement/"),
            ("ahead", f"/programs/{p}/statement/"),
            ("admin", f"/programs/{p}/statement/?artist={d['artist'].pk}"),
        ],
        "transparency_index": [("anonymous", "/transparency/"), ("artist", "/transparency/")],
        "transparency": [
            ("anonymous", f"/programs/{pub}/transparency/"),
            ("artist", f"/programs/{pub}/transparency/"),
            ("admin", f"/programs/{p}/transparency/"),
        ],
        "api_tokens": [("artist", "/tokens/")],
        "notifications": [
            ("artist", "/notifications/"),
            ("artist", "/notifications/?unread=true"),
            ("admin", "/notifications/?unread=true"),
            ("treasurer", "/notifications/"),
        ],
        "notification_preferences": [("artist", "/account/notifications/")],
        "password_reset": [("anonymous", "/password/reset/")],
        "password_reset_done": [("anonymous", "/password/reset/sent/")],
        "password_reset_confirm": [
            ("anonymous", f"/password/reset/{d['reset_uid']}/{d['reset_token']}/"),
            ("anonymous", "/password/reset/MQ/not-a-token/"),
        ],
        "password_reset_complete": [("anonymous", "/password/reset/done/")],
        "invitations": [("admin", f"/programs/{p}/invitations/")],
        "program_imports": [
            ("admin", f"/programs/{p}/imports/"),
            ("treasurer", f"/programs/{p}/imports/"),
        ],
        "import_detail": [
            ("admin", f"/imports/{d['import_failed'].pk}/"),
            ("admin", f"/imports/{d['import_checked'].pk}/"),
            ("treasurer", f"/imports/{d['import_queued'].pk}/"),
        ],
        "invitation_accept": [
            ("anonymous", f"/invitations/{d['invitation'].secret}/"),
            ("artist", f"/invitations/{d['invitation'].secret}/"),
            ("anonymous", f"/invitations/{d['expired'].secret}/", 410),
            ("anonymous", "/invitations/no-such-link/", 404),
        ],
        # The code step, as a person whose password was right sees it (sign_in stops there).
        "login_code": [("enrolled", "/login/code/")],
        "two_factor": [("artist", "/account/two-factor/"), ("admin", "/account/two-factor/")],
        "two_factor_enrol": [("artist", "/account/two-factor/enrol/")],
        "dispute_list": [
            ("admin", "/disputes/"),
            ("artist", "/disputes/"),
            ("treasurer", "/disputes/?status=open"),
        ],
        "dispute_detail": [
            ("admin", f"/disputes/{d['valuation'].pk}/"),  # the uphold form with the hours
            ("artist", f"/disputes/{d['valuation'].pk}/"),
            ("admin", f"/disputes/{d['upheld'].pk}/"),  # the timeline and the entry posted
            ("admin", f"/disputes/{d['not_received'].pk}/"),  # refused: its own decision
            ("treasurer", f"/disputes/{d['not_received'].pk}/"),
        ],
        "dispute_contribution": [
            ("artist", f"/contributions/{w}/dispute/"),
            ("admin", f"/contributions/{w}/dispute/"),
        ],
        "dispute_payout": [
            ("ahead", f"/payouts/{d['grant'].pk}/dispute/"),
            ("artist", f"/payouts/{d['payout'].pk}/dispute/"),  # one is open already
        ],
    }


@pytest.fixture
def site(admin, artist, artist2, settings):
    """A program with work in every state and a grant paid ahead of work, a payout proposed
    above its approval threshold and a second treasurer, plus a public one."""
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 1
    program = make_program(admin)
    for person in (artist, artist2):
        services.enroll_artist(actor=admin, program=program, artist=person)
    # Accepted 40 days ago and only partly paid below: money overdue for payment.
    with clock.frozen(clock.now() - dt.timedelta(days=40)):
        work = accepted_work(program, artist, admin, hours="20.00")  # $900.00
    services.accept_contribution(contribution=log_bug(program, artist, "critical"), actor=admin)
    log_bug(program, artist)
    submitted = log_feedback(program, artist, hours="1.50")
    rejected = services.reject_contribution(
        contribution=log_feedback(program, artist), actor=admin, reason="Duplicate"
    )
    services.withdraw_contribution(contribution=log_bug(program, artist, "low"), actor=artist)
    old = clock.today() - dt.timedelta(days=200)
    services.accept_contribution(contribution=log_feedback(program, artist, day=old), actor=admin)
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=50000, kind="settlement"
    )
    # artist2 was paid a grant before any work was valued: paid ahead.
    grant = services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=7000, kind="grant"
    )
    program = services.update_program(actor=admin, program=program, approval_threshold_minor=100000)
    proposal = services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=150000, kind="grant"
    )
    treasurer = UserFactory(username="treasurer2")
    treasurer_role = services.grant_role(
        actor=admin, program=program, user=treasurer, role="treasurer"
    )
    # Disputes: an open valuation (work another reviewer accepted, for the admin to decide), an
    # upheld rejection, an open non-receipt of the admin's payout (for the treasurer).
    reviewer = UserFactory(username="reviewer3")
    services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    valuation = services.open_dispute(
        actor=artist,
        subject=services.accept_contribution(
            contribution=log_feedback(program, artist, hours="1.00"), actor=reviewer
        ),
        claim="valuation",
        statement="The session took two hours.",
        evidence_url="https://example.org/notes",
    )
    upheld = services.open_dispute(
        actor=artist,
        subject=services.reject_contribution(
            contribution=log_bug(program, artist, "medium"), actor=admin, reason="Duplicate"
        ),
        claim="rejection",
        statement="Not a duplicate: another screen.",
    )
    services.uphold_dispute(dispute=upheld, actor=reviewer, note="A different screen indeed.")
    not_received = services.open_dispute(
        actor=artist, subject=payout, claim="not_received", statement="Nothing arrived."
    )
    public = make_program(admin, public=True, currency="JPY")
    services.enroll_artist(actor=admin, program=public, artist=artist)
    accepted_work(public, artist, admin)
    # Work left unreviewed past its due date: flagged where listed, reminded about in one
    # program, accepted by the system in the public one (which accepts it automatically).
    services.update_program(actor=admin, program=public, auto_accept_overdue=True)
    with clock.frozen(clock.now() - dt.timedelta(days=20)):
        overdue = log_feedback(program, artist, hours="3.00")
        by_system = log_bug(public, artist, "medium")
        log_bug(public, artist, "low")
    services.apply_deadlines()
    with clock.frozen(clock.now() - dt.timedelta(days=16)):
        log_bug(public, artist, "high")  # overdue, not yet applied
    # Invitations in every state: pending (as a member and as staff), revoked, accepted, expired.
    with clock.frozen(clock.now() - dt.timedelta(days=20)):
        expired = services.invite(actor=admin, program=program, email="late@example.org")
    invitation = services.invite(
        actor=admin, program=program, email="nia@example.org", display_name="Nia Okoro"
    )
    services.invite(actor=admin, program=program, email="rev@example.org", role="reviewer")
    revoked = services.invite(actor=admin, program=program, email="gone@example.org")
    services.revoke_invitation(actor=admin, invitation=revoked)
    used = services.invite(actor=admin, program=program, email="in@example.org", role="auditor")
    services.accept_invitation(token=used.secret, user=UserFactory(username="invitee"))
    enrolled = UserFactory(username="enrolled")
    TOTPDevice.objects.create(user=enrolled, name="Authenticator app", confirmed=True)
    # A payment the artist confirmed beside the settlement it has not (its page offers the
    # button), and an inbox with read and unread notifications (the events above wrote them).
    confirmed = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="grant"
    )
    services.confirm_payout(payout=confirmed, actor=artist)
    services.mark_read(notification=Notification.objects.of(artist).last(), user=artist)
    # Imports: one failed (rows to fix), one dry run that passed, one still queued.
    day = clock.today().isoformat()
    rows = f"artist1,feedback,Notes,{day},1,,T-1,\nartist1,feedback,Bad,{day},,,,\n"
    import_failed = imports.start_import(actor=admin, program=program, upload=csv_upload(rows))
    imports.run(import_failed.pk)
    rows = f"artist1,feedback,Notes,{day},1,,T-1,\n"
    import_checked = imports.start_import(actor=admin, program=program, upload=csv_upload(rows))
    imports.run(import_checked.pk)
    import_queued = imports.start_import(actor=admin, program=program, upload=csv_upload(rows))
    # The immediate task backend ran it on commit: back to how a busy queue would leave it.
    ImportJob.objects.filter(pk=import_queued.pk).update(status="queued", finished_at=None)
    # A program in euros paying by bank transfer: one artist with an IBAN on file, one
    # without (the batch page lists them when refusing the payment file).
    euro = make_program(admin, currency="EUR")
    services.grant_role(actor=admin, program=euro, user=treasurer, role="treasurer")
    services.update_program(
        actor=admin, program=euro, payer_name="Studio", payer_iban="DE02120300000000202051"
    )
    services.set_bank_details(actor=artist, user=artist, iban="DE89370400440532013000")
    for person in (artist, artist2):
        services.enroll_artist(actor=admin, program=euro, artist=person)
        services.record_payout(
            actor=admin, artist=person, program=euro, amount_minor=2500, kind="grant"
        )
    # A webhook whose receiver is down (nothing listens on port 9): its delivery log holds a
    # refused attempt, its delivery a retry to come.
    settings.LEDGER_WEBHOOKS_ALLOW_INSECURE = True
    webhook = services.create_subscription(
        actor=admin,
        program=program,
        url="http://127.0.0.1:9/hooks",
        events=["contribution.submitted", "payout.paid"],
        description="Accounting",
    )
    log_feedback(program, artist)
    return {
        "import_failed": import_failed,
        "import_checked": import_checked,
        "import_queued": import_queued,
        "euro": euro,
        "webhook": webhook,
        "program": program,
        "public": public,
        "work": work,
        "submitted": submitted,
        "rejected": rejected,
        "overdue": overdue,
        "by_system": by_system,
        "payout": payout,
        "confirmed": confirmed,
        "proposal": proposal,
        "grant": grant,
        "valuation": valuation,
        "upheld": upheld,
        "not_received": not_received,
        "treasurer_role": treasurer_role,
        "artist": artist,
        "invitation": invitation,
        "expired": expired,
        "reset_uid": urlsafe_base64_encode(force_bytes(artist.pk)),
        "reset_token": default_token_generator.make_token(artist),
        "users": {
            "anonymous": None,
            "artist": artist,
            "ahead": artist2,
            "admin": admin,
            "treasurer": treasurer,
            "enrolled": enrolled,
        },
    }


# Runs in the page: every date (YYYY-MM-DD or YYYY-MM) in visible text must sit on one line.
# Closed <details> in the content are opened first, so the tables behind them are checked too.
BROKEN_DATES = """() => {
  const found = [];
  document.querySelectorAll("main details").forEach(d => { d.open = true; });
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const re = /\\d{4}-\\d{2}(-\\d{2})?/g;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(re)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 1);
      const tops = new Set(rects.map(r => Math.round(r.top)));
      const where = node.parentElement.tagName.toLowerCase();
      if (tops.size > 1) found.push(`${m[0]} in <${where}>`);
    }
  }
  return found;
}"""

# Runs in the page: visible chart labels' effective font size and overlaps.
CHART_LABELS = """() => {
  const problems = [];
  for (const svg of document.querySelectorAll("svg.chart-svg")) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const axis of ["chart-x-label", "chart-y-label"]) {
      const labels = [...svg.querySelectorAll("text." + axis)].filter(
        t => getComputedStyle(t).display !== "none");
      const rects = labels.map(t => t.getBoundingClientRect());
      labels.forEach((t, i) => {
        const px = parseFloat(getComputedStyle(t).fontSize) * scale;
        if (px < 11) problems.push(`${axis} "${t.textContent}" is ${px.toFixed(1)}px`);
        if (rects[i].left < box.left - 1) problems.push(`${axis} "${t.textContent}" is cut off`);
        for (let j = 0; j < i; j++) {
          const a = rects[i], b = rects[j];
          if (a.left < b.right + 2 && b.left < a.right + 2 && a.top < b.bottom && b.top < a.bottom)
            problems.push(`${axis} "${t.textContent}" overlaps "${labels[j].textContent}"`);
        }
      });
    }
  }
  return problems;
}"""


def test_every_page_is_swept_or_named_as_not_a_page(site):
    routes = set(_route_names(web_urls.urlpatterns))
    swept = set(_pages(site))
    assert not swept & set(NOT_PAGES)
    assert routes == swept | set(NOT_PAGES), "a route is neither swept nor named in NOT_PAGES"


def sign_in(page, user):
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).not_to_have_text("Sign in")


def axe(page):
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} — "
        + "; ".join(
            f"{n['target']} {n.get('failureSummary', '').splitlines()[-1:]}" for n in v["nodes"][:3]
        )
        for v in result
        if v["impact"] in BLOCKING
    ]


def test_axe_finds_no_serious_violation_on_any_page(browser, live_server, site):
    by_visitor = {}
    for name, visits in _pages(site).items():
        for visitor, path, *status in visits:  # a page answering other than 200 says so
            by_visitor.setdefault(visitor, []).append((name, path, status[0] if status else 200))
    problems, errors = [], []
    for visitor, visits in by_visitor.items():
        # Reduced motion turns Pico's colour transitions off, so axe measures the colours a
        # reader sees rather than a link caught halfway through its fade after a restyle.
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            base_url=live_server.url,
            reduced_motion="reduce",
        )
        page = context.new_page()
        expected = {"status": 200}

        def console(message, expected=expected):
            # The browser reports a page answered with an error status as a console error:
            # expected for the pages that must answer so.
            loaded = f"the server responded with a status of {expected['status']} "
            if message.type == "error" and loaded not in message.text:
                errors.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        if site["users"][visitor] is not None:
            sign_in(page, site["users"][visitor])
        for _name, path, status in visits:
            expected["status"] = status
            response = page.goto(path)
            assert response.status == status, (visitor, path, response.status)
            for width, scheme in COMBOS:
                page.set_viewport_size({"width": width, "height": 900})
                page.emulate_media(color_scheme=scheme)
                where = f"{path} as {visitor} at {width}px {scheme}"
                problems += [f"{where}: {p}" for p in axe(page)]
                problems += [f"{where}: date broken: {p}" for p in page.evaluate(BROKEN_DATES)]
                problems += [f"{where}: chart: {p}" for p in page.evaluate(CHART_LABELS)]
        context.close()
    assert errors == []
    assert problems == [], "\n".join(problems)


def test_no_date_breaks_across_lines_even_on_a_small_phone(browser, live_server, site):
    """Dates sit in figure tiles and fact lists whose long values may wrap anywhere; a date
    itself must never be split ("2026-⏎12-01"), down to a 320 px phone."""
    problems = []
    for visitor, path in [
        ("admin", f"/payouts/{site['payout'].pk}/void/"),
        ("admin", f"/contributions/{site['work'].pk}/"),
        ("artist", "/"),
        ("admin", f"/programs/{site['program'].pk}/"),
        ("artist", f"/programs/{site['program'].pk}/statement/"),
    ]:
        context = browser.new_context(
            viewport={"width": 320, "height": 900}, base_url=live_server.url
        )
        page = context.new_page()
        sign_in(page, site["users"][visitor])
        page.goto(path)
        for width in (320, 360, 390):
            page.set_viewport_size({"width": width, "height": 900})
            problems += [f"{path} at {width}px: {p}" for p in page.evaluate(BROKEN_DATES)]
        context.close()
    assert problems == []
