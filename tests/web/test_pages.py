"""The pages through Django's test client: permissions, forms, errors, and what they write."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger import services
from ledger.models import Contribution, LedgerHead, Membership, Payout, Program, RateCard
from tests.conftest import TODAY, accepted_work, log_bug, log_feedback, make_program
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def field_error(response, field: str) -> str:
    """The error text shown beside `field` (its `<small id="id_<field>_error">`)."""
    html = response.content.decode()
    match = re.search(rf'id="id_{re.escape(field)}_error">(.*?)</small>', html, re.S)
    assert match, f"no error shown beside {field!r}"
    return match.group(1)


def own_work(program, admin):
    """An admin enrolled as a member logs work for itself (which it may not review)."""
    services.enroll_artist(actor=admin, program=program, artist=admin)
    return services.submit_contribution(
        actor=admin,
        artist=admin,
        program=program,
        kind="feedback",
        title="My own work",
        occurred_on=TODAY,
        hours=Decimal("1.00"),
    )


# --- Sign-in, sign-out, password ---------------------------------------------------------


def test_login_page_and_sign_in(client, artist):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    response = client.post("/login/", {"username": "artist1", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get("/").status_code == 200


def test_wrong_password_is_shown_and_does_not_sign_in(client, artist):
    response = client.post("/login/", {"username": "artist1", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert client.get("/").status_code == 302


def test_sign_out_is_a_post(client_for, artist):
    client = client_for(artist)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client_for, artist):
    client = client_for(artist)
    assert client.get("/password/").status_code == 200
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-2026",
            "new_password2": "a-much-longer-passphrase-2026",
        },
    )
    assert response.status_code == 302
    artist.refresh_from_db()
    assert artist.check_password("a-much-longer-passphrase-2026")


def test_password_change_errors_beside_field(client_for, artist):
    response = client_for(artist).post(
        "/password/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert response.status_code == 200
    assert "incorrect" in field_error(response, "old_password")
    artist.refresh_from_db()
    assert artist.check_password(PASSWORD)


def test_anonymous_is_sent_to_login(client):
    for url in ["/", "/contributions/", "/review/", "/payouts/", "/programs/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/login/"), url


# --- Security headers and markup ---------------------------------------------------------


def test_strict_csp_and_no_inline_script_or_style(client_for, admin, artist, program):
    accepted_work(program, artist, admin)
    log_bug(program, artist)
    client = client_for(admin)
    pages = [
        "/",
        "/review/",
        "/payouts/",
        "/payouts/new/",
        f"/programs/{program.pk}/",
        f"/programs/{program.pk}/transparency/",
        f"/programs/{program.pk}/statement/?artist={artist.pk}",
        "/programs/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp, url
        assert "unsafe-inline" not in csp
        html = response.content.decode()
        assert " style=" not in html, url
        assert "<style" not in html, url
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert "skip-link" in html


# --- Artist home -------------------------------------------------------------------------


def test_artist_home_shows_valued_paid_outstanding_pending(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # 2 h × $45.00 = $90.00
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=2000, kind="grant"
    )
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=3000, kind="settlement"
    )
    log_bug(program, artist, severity="medium")  # pending $50.00
    response = client_for(artist).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "$90.00" in html
    assert "$20.00" in html and "$30.00" in html
    assert f'data-testid="outstanding-{program.pk}">$40.00<' in html
    assert "$50.00" in html
    assert "<title id=" in html and "<desc id=" in html
    assert "Chart data as a table" in html


def test_artist_home_with_no_program(client_for, artist):
    response = client_for(artist).get("/")
    assert b"not a member of any program" in response.content


def test_admin_home_is_a_dashboard(client_for, admin, artist, program):
    log_feedback(program, artist)
    response = client_for(admin).get("/")
    assert response.status_code == 200
    assert reverse("review_queue").encode() in response.content
    assert reverse("payouts").encode() in response.content


# --- Logging work ------------------------------------------------------------------------


def test_log_feedback_form_shows_current_rates(client_for, artist, program):
    response = client_for(artist).get("/contributions/new/feedback/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "$45.00" in html  # hourly rate of the card in effect
    assert "$200.00" in html  # bounty for high
    assert 'aria-live="polite"' in html


def test_log_feedback_creates_submitted_work(client_for, artist, program):
    response = client_for(artist).post(
        "/contributions/new/feedback/",
        {
            "program": program.pk,
            "title": "Session on brushes",
            "occurred_on": TODAY.isoformat(),
            "hours": "1.5",
            "description": "",
        },
    )
    contribution = Contribution.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("contribution_detail", args=[contribution.pk])
    assert contribution.artist == artist
    assert str(contribution.hours) == "1.50"
    assert contribution.status == "submitted"


@pytest.mark.parametrize(
    ("hours", "message"),
    [("abc", "plain decimal"), ("25", "at most 24"), ("1.234", "2 decimal"), ("", "required")],
)
def test_log_feedback_bad_hours_beside_field(client_for, artist, program, hours, message):
    response = client_for(artist).post(
        "/contributions/new/feedback/",
        {"program": program.pk, "title": "x", "occurred_on": TODAY.isoformat(), "hours": hours},
    )
    assert response.status_code == 200
    assert message in field_error(response, "hours")
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Contribution.objects.exists()


def test_log_feedback_future_date_is_a_domain_error_beside_the_date(client_for, artist, program):
    future = TODAY + dt.timedelta(days=3)
    response = client_for(artist).post(
        "/contributions/new/feedback/",
        {"program": program.pk, "title": "x", "occurred_on": future.isoformat(), "hours": "1"},
    )
    assert response.status_code == 200
    assert "future" in field_error(response, "occurred_on")
    assert not Contribution.objects.exists()


def test_log_work_before_any_rate_card_is_refused(client_for, artist, program):
    early = TODAY - dt.timedelta(days=800)
    response = client_for(artist).post(
        "/contributions/new/feedback/",
        {"program": program.pk, "title": "x", "occurred_on": early.isoformat(), "hours": "1"},
    )
    assert "No rate card" in field_error(response, "occurred_on")
    assert not Contribution.objects.exists()


def test_log_work_in_a_program_one_is_not_in(client_for, admin, artist, program):
    other = make_program(admin, currency="EUR")
    response = client_for(artist).post(
        "/contributions/new/feedback/",
        {"program": other.pk, "title": "x", "occurred_on": TODAY.isoformat(), "hours": "1"},
    )
    assert response.status_code == 200
    assert "valid choice" in field_error(response, "program")
    assert not Contribution.objects.exists()


def test_log_bug_report(client_for, artist, program):
    client = client_for(artist)
    response = client.post(
        "/contributions/new/bug-report/",
        {"program": program.pk, "title": "Crash", "occurred_on": TODAY.isoformat()},
    )
    assert response.status_code == 200
    assert "required" in field_error(response, "severity")
    response = client.post(
        "/contributions/new/bug-report/",
        {
            "program": program.pk,
            "title": "Crash",
            "occurred_on": TODAY.isoformat(),
            "severity": "critical",
            "reference": "tracker.example.org/issues/12",
        },
    )
    assert response.status_code == 302
    bug = Contribution.objects.get()
    assert (bug.kind, bug.severity) == ("bug_report", "critical")
    assert bug.reference == "https://tracker.example.org/issues/12"
    assert bug.estimate_minor == 50000


def test_admin_logs_work_for_a_member(client_for, admin, artist, program):
    response = client_for(admin).post(
        "/contributions/new/feedback/",
        {
            "program": program.pk,
            "artist": artist.pk,
            "title": "Logged for the artist",
            "occurred_on": TODAY.isoformat(),
            "hours": "1",
        },
    )
    assert response.status_code == 302
    assert Contribution.objects.get().artist == artist


def test_rate_preview(client_for, artist, program):
    client = client_for(artist)
    url = "/contributions/rate-preview/"
    response = client.get(
        url,
        {
            "program": program.pk,
            "occurred_on": TODAY.isoformat(),
            "kind": "feedback",
            "hours": "2",
        },
    )
    assert b"$45.00" in response.content and b"$90.00" in response.content
    response = client.get(
        url,
        {
            "program": program.pk,
            "occurred_on": TODAY.isoformat(),
            "kind": "bug_report",
            "severity": "low",
        },
    )
    assert b"$10.00" in response.content
    response = client.get(url, {"program": program.pk, "occurred_on": "not-a-date"})
    assert b"valid date" in response.content


def test_rate_preview_hides_programs_one_cannot_see(client_for, admin, artist, program):
    other = make_program(admin, currency="EUR")
    response = client_for(artist).get(
        "/contributions/rate-preview/",
        {"program": other.pk, "occurred_on": TODAY.isoformat(), "kind": "feedback"},
    )
    assert "€" not in response.content.decode()


# --- Own contributions, detail, withdraw -------------------------------------------------


def test_contribution_list_is_own_and_filters(client_for, admin, artist, artist2, program):
    accepted_work(program, artist, admin)
    mine = log_bug(program, artist)
    services.submit_contribution(
        actor=artist2,
        program=program,
        kind="feedback",
        title="Not mine",
        occurred_on=TODAY,
        hours=Decimal("1.00"),
    )
    client = client_for(artist)
    html = client.get("/contributions/").content.decode()
    assert "Not mine" not in html
    assert html.count("/contributions/") >= 2
    html = client.get("/contributions/?status=submitted").content.decode()
    assert f"/contributions/{mine.pk}/" in html
    assert "Feedback session" not in html


def test_contribution_list_query_count(
    client_for, admin, artist, program, django_assert_max_num_queries
):
    for _ in range(15):
        log_feedback(program, artist)
    client = client_for(artist)
    with django_assert_max_num_queries(8):
        assert client.get("/contributions/").status_code == 200


def test_artist_cannot_see_another_artists_contribution(client_for, artist, artist2, program):
    theirs = log_feedback(program, artist2)
    client = client_for(artist)
    assert client.get(f"/contributions/{theirs.pk}/").status_code == 404
    assert client.post(f"/contributions/{theirs.pk}/withdraw/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "submitted"


def test_withdraw_own_submitted_work(client_for, artist, program):
    mine = log_feedback(program, artist)
    response = client_for(artist).post(f"/contributions/{mine.pk}/withdraw/")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "withdrawn"


def test_withdraw_twice_shows_the_error(client_for, artist, program):
    mine = log_feedback(program, artist)
    client = client_for(artist)
    client.post(f"/contributions/{mine.pk}/withdraw/")
    response = client.post(f"/contributions/{mine.pk}/withdraw/", follow=True)
    assert b"cannot become withdrawn" in response.content


def test_detail_timeline_shows_who_and_why(client_for, admin, artist, program):
    work = log_feedback(program, artist)
    services.reject_contribution(contribution=work, actor=admin, reason="Duplicate of #12")
    html = client_for(artist).get(f"/contributions/{work.pk}/").content.decode()
    assert "Submitted" in html and "Rejected" in html
    assert f"by {admin}" in html
    assert "Duplicate of #12" in html


# --- Review (admin) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/review/"),
        ("post", "/review/accept/"),
        ("get", "/payouts/"),
        ("get", "/payouts/new/"),
        ("get", "/payouts/{payout}/void/"),
        ("get", "/programs/new/"),
        ("post", "/programs/{program}/rate-cards/"),
        ("post", "/programs/{program}/members/"),
        ("post", "/contributions/{own}/accept/"),
        ("post", "/contributions/{own}/reject/"),
    ],
)
def test_artists_cannot_use_admin_pages(client_for, admin, artist, program, method, url):
    own = log_feedback(program, artist)
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
    )
    url = url.format(program=program.pk, own=own.pk, payout=payout.pk)
    response = getattr(client_for(artist), method)(url)
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    own.refresh_from_db()
    assert own.status == "submitted"


def test_review_queue_filters(client_for, admin, artist, program):
    log_feedback(program, artist)
    bug = log_bug(program, artist, severity="low")
    client = client_for(admin)
    html = client.get("/review/").content.decode()
    assert "Feedback session" in html and "Crash on export" in html
    html = client.get("/review/?kind=bug_report&severity=low").content.decode()
    assert f"/contributions/{bug.pk}/" in html and "Feedback session" not in html
    html = client.get("/review/?severity=high").content.decode()
    assert "Nothing is waiting" in html


def test_review_queue_query_count(
    client_for, admin, artist, artist2, program, django_assert_max_num_queries
):
    for _ in range(10):
        log_feedback(program, artist)
        log_bug(program, artist2)
    client = client_for(admin)
    with django_assert_max_num_queries(8):
        assert client.get("/review/").status_code == 200


def test_accept_with_adjusted_hours(client_for, admin, artist, program):
    work = log_feedback(program, artist, hours="3.00")
    response = client_for(admin).post(
        f"/contributions/{work.pk}/accept/", {"hours": "2", "note": "Session ran short"}
    )
    assert response.status_code == 302
    work.refresh_from_db()
    assert work.status == "accepted"
    assert work.value_minor == 9000
    assert Membership.objects.get(program=program, artist=artist).valued_minor == 9000


def test_accept_with_bad_hours_writes_nothing(client_for, admin, artist, program):
    work = log_feedback(program, artist)
    response = client_for(admin).post(f"/contributions/{work.pk}/accept/", {"hours": "30"})
    assert response.status_code == 200
    assert "at most 24" in field_error(response, "hours")
    work.refresh_from_db()
    assert work.status == "submitted"


def test_accept_with_adjusted_severity(client_for, admin, artist, program):
    bug = log_bug(program, artist, severity="high")
    client_for(admin).post(f"/contributions/{bug.pk}/accept/", {"severity": "low"})
    bug.refresh_from_db()
    assert (bug.status, bug.severity, bug.value_minor) == ("accepted", "low", 1000)


def test_accept_via_htmx_returns_the_row(client_for, admin, artist, program):
    work = log_feedback(program, artist)
    response = client_for(admin).post(
        f"/contributions/{work.pk}/accept/", {}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="row-{work.pk}"' in html and "Accepted" in html
    assert 'hx-swap-oob="true"' in html


def test_reject_needs_a_reason(client_for, admin, artist, program):
    work = log_feedback(program, artist)
    client = client_for(admin)
    response = client.post(f"/contributions/{work.pk}/reject/", {"reject-reason": "  "})
    assert response.status_code == 200
    assert "reason is required" in field_error(response, "reject-reason")
    work.refresh_from_db()
    assert work.status == "submitted"
    response = client.post(f"/contributions/{work.pk}/reject/", {"reject-reason": "Duplicate"})
    assert response.status_code == 302
    work.refresh_from_db()
    assert (work.status, work.review_note) == ("rejected", "Duplicate")


def test_reverse_accepted_work(client_for, admin, artist, program):
    work = accepted_work(program, artist, admin)
    client = client_for(admin)
    response = client.post(f"/contributions/{work.pk}/reverse/", {"reverse-reason": ""})
    assert response.status_code == 200
    assert "reason is required" in field_error(response, "reverse-reason")
    response = client.post(f"/contributions/{work.pk}/reverse/", {"reverse-reason": "Known bug"})
    assert response.status_code == 302
    work.refresh_from_db()
    assert work.status == "reversed"
    assert Membership.objects.get(program=program, artist=artist).valued_minor == 0


def test_reviewing_own_work_is_refused_on_the_page(client_for, admin, artist, program):
    own = own_work(program, admin)
    response = client_for(admin).post(f"/contributions/{own.pk}/accept/", {})
    assert response.status_code == 200
    assert b"cannot review your own work" in response.content
    own.refresh_from_db()
    assert own.status == "submitted"


def test_bulk_accept(client_for, admin, artist, artist2, program):
    first, second = log_feedback(program, artist), log_bug(program, artist2)
    response = client_for(admin).post(
        "/review/accept/", {"ids": [first.pk, second.pk]}, follow=True
    )
    assert b"Accepted 2 contribution" in response.content
    assert set(Contribution.objects.values_list("status", flat=True)) == {"accepted"}


def test_bulk_accept_is_all_or_nothing(client_for, admin, artist, program):
    good = log_feedback(program, artist)
    own = own_work(program, admin)  # the admin may not review its own work
    response = client_for(admin).post("/review/accept/", {"ids": [good.pk, own.pk]}, follow=True)
    assert b"Nothing was accepted" in response.content
    assert set(Contribution.objects.values_list("status", flat=True)) == {"submitted"}
    assert Membership.objects.get(program=program, artist=artist).valued_minor == 0


def test_bulk_accept_with_stale_selection_writes_nothing(client_for, admin, artist, program):
    good = log_feedback(program, artist)
    gone = log_feedback(program, artist)
    services.withdraw_contribution(contribution=gone, actor=artist)
    response = client_for(admin).post("/review/accept/", {"ids": [good.pk, gone.pk]}, follow=True)
    assert b"Nothing was accepted" in response.content
    good.refresh_from_db()
    assert good.status == "submitted"


def test_bulk_accept_with_nothing_selected(client_for, admin):
    response = client_for(admin).post("/review/accept/", {}, follow=True)
    assert b"Select at least one" in response.content


# --- Statements --------------------------------------------------------------------------


def test_statement_with_running_balance_and_period(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    services.record_payout(
        actor=admin,
        artist=artist,
        program=program,
        amount_minor=5000,
        kind="settlement",
    )
    client = client_for(artist)
    html = client.get(f"/programs/{program.pk}/statement/").content.decode()
    assert "$90.00" in html and "-$50.00" in html and "$40.00" in html
    assert "Accepted work" in html and "Payout" in html
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    html = client.get(
        f"/programs/{program.pk}/statement/", {"date_from": tomorrow}
    ).content.decode()
    assert "No entries in this period" in html
    assert "$40.00" in html  # opening balance carries the earlier lines


def test_statement_period_error_beside_field(client_for, artist, program):
    response = client_for(artist).get(
        f"/programs/{program.pk}/statement/",
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
    )
    assert "before its start" in field_error(response, "date_to")


def test_statement_csv(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    response = client_for(artist).get(f"/programs/{program.pk}/statement.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("date,kind,description,amount,balance")
    assert ",90.00,90.00,USD," in lines[1]


def test_statement_visibility(client_for, admin, artist, artist2, program):
    other = make_program(admin, currency="EUR")
    client = client_for(artist)
    assert client.get(f"/programs/{other.pk}/statement/").status_code == 404
    assert client.get(f"/programs/{other.pk}/statement.csv").status_code == 404
    accepted_work(program, artist2, admin, hours="3.00")
    # An artist naming another artist still gets its own statement.
    html = client.get(f"/programs/{program.pk}/statement/?artist={artist2.pk}").content.decode()
    assert "$135.00" not in html


def test_admin_statement_picks_a_member(
    client_for, admin, artist, program, django_assert_max_num_queries
):
    accepted_work(program, artist, admin, hours="3.00")
    client = client_for(admin)
    html = client.get(f"/programs/{program.pk}/statement/").content.decode()
    assert "Choose an artist" in html
    with django_assert_max_num_queries(10):
        html = client.get(f"/programs/{program.pk}/statement/?artist={artist.pk}").content.decode()
    assert "$135.00" in html
    outsider = UserFactory(username="outsider")
    response = client.get(f"/programs/{program.pk}/statement/?artist={outsider.pk}")
    assert response.status_code == 404


# --- Payouts -----------------------------------------------------------------------------


def pay(client, program, artist, amount, kind="settlement", **extra):
    data = {
        "program": program.pk,
        "artist": artist.pk,
        "kind": kind,
        "amount": amount,
        "paid_on": TODAY.isoformat(),
        "method": "bank transfer",
        "reference": "",
        "note": "",
    } | extra
    return client.post("/payouts/new/", data)


def confirmation_of(response) -> str:
    """The single-use token the review step puts in its confirm form."""
    match = re.search(r'name="confirmation" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form"
    return match.group(1)


def test_payouts_page_lists_balances(
    client_for, admin, artist, artist2, program, django_assert_max_num_queries
):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    with django_assert_max_num_queries(10):
        response = client.get("/payouts/")
    html = response.content.decode()
    assert "$90.00" in html
    assert str(artist) in html and str(artist2) in html
    html = client.get("/payouts/?owed=1").content.decode()
    assert str(artist) in html and f">{artist2}<" not in html


def test_pay_a_settlement_with_confirmation(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    response = pay(client, program, artist, "60")
    assert response.status_code == 200
    assert b"Confirm and record" in response.content
    assert b"$60.00" in response.content
    assert not Payout.objects.exists()  # the first step writes nothing
    token = confirmation_of(response)
    response = pay(client, program, artist, "60", confirm="1", confirmation=token)
    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.kind, payout.amount_minor) == ("settlement", 6000)
    assert Membership.objects.get(program=program, artist=artist).outstanding_minor == 3000


def test_over_settlement_shows_the_error_and_writes_nothing(client_for, admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")
    client = client_for(admin)
    for extra in ({}, {"confirm": "1"}):
        response = pay(client, program, artist, "90.01", **extra)
        assert response.status_code == 200
        message = field_error(response, "amount")
        assert "$90.01 exceeds the $90.00 outstanding" in message
    assert not Payout.objects.exists()
    assert Membership.objects.get(program=program, artist=artist).outstanding_minor == 9000


def test_a_grant_may_exceed_what_is_owed(client_for, admin, artist, program):
    client = client_for(admin)
    token = confirmation_of(pay(client, program, artist, "500", kind="grant"))
    response = pay(client, program, artist, "500", kind="grant", confirm="1", confirmation=token)
    assert response.status_code == 302
    assert Payout.objects.get().amount_minor == 50000


@pytest.mark.parametrize(
    ("amount", "message"),
    [("12.345", "2 decimal"), ("-5", "positive"), ("0", "greater than zero"), ("1e3", "plain")],
)
def test_pay_bad_amount_beside_field(client_for, admin, artist, program, amount, message):
    response = pay(client_for(admin), program, artist, amount, confirm="1")
    assert response.status_code == 200
    assert message in field_error(response, "amount")
    assert not Payout.objects.exists()


def test_pay_non_member(client_for, admin, program):
    outsider = UserFactory(username="outsider")
    response = pay(client_for(admin), program, outsider, "5", kind="grant")
    assert "not a member" in field_error(response, "artist")
    assert not Payout.objects.exists()


def test_pay_change_step_returns_to_the_form(client_for, admin, artist, program):
    response = pay(client_for(admin), program, artist, "5", kind="grant", edit="1")
    assert b"Review payment" in response.content
    assert not Payout.objects.exists()


def test_void_a_payout(client_for, admin, artist, program):
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1000, kind="grant"
    )
    client = client_for(admin)
    assert client.get(f"/payouts/{payout.pk}/void/").status_code == 200
    response = client.post(f"/payouts/{payout.pk}/void/", {"reason": ""})
    assert response.status_code == 200
    assert "reason is required" in field_error(response, "reason")
    payout.refresh_from_db()
    assert payout.status == "paid"
    response = client.post(f"/payouts/{payout.pk}/void/", {"reason": "Sent twice"})
    assert response.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.void_reason) == ("void", "Sent twice")
    response = client.get(f"/payouts/{payout.pk}/void/")
    assert b"was voided" in response.content


# --- Programs, rate cards, members -------------------------------------------------------


def test_program_list_per_role(client_for, admin, artist, program, django_assert_max_num_queries):
    other = make_program(admin, currency="EUR")
    client = client_for(artist)
    with django_assert_max_num_queries(5):
        html = client.get("/programs/").content.decode()
    assert program.name in html and other.name not in html
    html = client_for(admin).get("/programs/").content.decode()
    assert other.name in html


def test_program_detail_visibility(client_for, admin, artist, program):
    other = make_program(admin, currency="EUR")
    client = client_for(artist)
    assert client.get(f"/programs/{other.pk}/").status_code == 404
    html = client.get(f"/programs/{program.pk}/").content.decode()
    assert "$45.00" in html and "Publish a rate card" not in html


def test_create_program(client_for, admin):
    client = client_for(admin)
    response = client.post("/programs/new/", {"name": "  ", "currency": "XXX"})
    assert response.status_code == 200
    assert "required" in field_error(response, "name")
    assert "valid choice" in field_error(response, "currency")
    response = client.post("/programs/new/", {"name": "Nimbus", "currency": "JPY", "public": "on"})
    program = Program.objects.get(name="Nimbus")
    assert response.status_code == 302
    assert (program.currency, program.public, program.created_by) == ("JPY", True, admin)


def rate_card_data(day, **overrides):
    return {
        "effective_from": day.isoformat(),
        "hourly_rate": "50",
        "bounty_low": "10",
        "bounty_medium": "50.5",
        "bounty_high": "200",
        "bounty_critical": "0",
    } | overrides


def test_add_rate_card(client_for, admin, program):
    response = client_for(admin).post(f"/programs/{program.pk}/rate-cards/", rate_card_data(TODAY))
    assert response.status_code == 302
    card = RateCard.objects.get(program=program, effective_from=TODAY)
    assert (card.hourly_rate_minor, card.bounty_medium_minor, card.bounty_critical_minor) == (
        5000,
        5050,
        0,
    )


def test_add_rate_card_errors_beside_fields(client_for, admin, program):
    client = client_for(admin)
    response = client.post(
        f"/programs/{program.pk}/rate-cards/", rate_card_data(TODAY, bounty_high="2.001")
    )
    assert response.status_code == 200
    assert "2 decimal" in field_error(response, "bounty_high")
    existing = program.rate_cards.get().effective_from
    response = client.post(f"/programs/{program.pk}/rate-cards/", rate_card_data(existing))
    assert response.status_code == 200
    assert "already exists" in field_error(response, "effective_from")
    assert program.rate_cards.count() == 1


def test_enroll_a_member(client_for, admin, program):
    newcomer = UserFactory(username="newcomer")
    client = client_for(admin)
    response = client.post(f"/programs/{program.pk}/members/", {"artist": newcomer.pk})
    assert response.status_code == 302
    assert Membership.objects.filter(program=program, artist=newcomer).exists()
    response = client.post(f"/programs/{program.pk}/members/", {"artist": newcomer.pk})
    assert response.status_code == 200
    assert "valid choice" in field_error(response, "artist")


def test_program_detail_admin_query_count(
    client_for, admin, program, django_assert_max_num_queries
):
    for n in range(10):
        services.enroll_artist(
            actor=admin, program=program, artist=UserFactory(username=f"member{n}")
        )
    client = client_for(admin)
    with django_assert_max_num_queries(12):
        assert client.get(f"/programs/{program.pk}/").status_code == 200


# --- Public transparency -----------------------------------------------------------------


@pytest.fixture
def public_program(admin, artist, artist2):
    program = make_program(admin, public=True)
    for person in (artist, artist2):
        services.enroll_artist(actor=admin, program=program, artist=person)
        accepted_work(program, person, admin, hours="2.00")
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=4000, kind="settlement"
    )
    services.record_payout(
        actor=admin, artist=artist2, program=program, amount_minor=1000, kind="grant"
    )
    return program


def test_transparency_shows_figures_without_identities(client, settings, public_program, artist):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 2
    response = client.get(f"/programs/{public_program.pk}/transparency/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="contributors">2<' in html
    assert 'data-testid="valued">$180.00<' in html
    assert 'data-testid="outstanding">$130.00<' in html
    assert "$40.00" in html and "$10.00" in html  # settlements and grants apart
    assert 'data-testid="paid">$50.00<' in html
    assert "27.8 %" in html
    head = LedgerHead.objects.get(program=public_program)
    assert head.seq > 0 and head.hash in html
    assert artist.username not in html.lower() and str(artist) not in html
    assert "<title id=" in html


def test_transparency_withheld_below_minimum(client, settings, public_program):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 3
    html = client.get(f"/programs/{public_program.pk}/transparency/").content.decode()
    assert "withheld" in html
    assert "$180.00" not in html
    assert 'data-testid="contributors"' not in html


def test_transparency_insiders_see_figures_below_minimum(
    client_for, settings, public_program, artist
):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 3
    html = client_for(artist).get(f"/programs/{public_program.pk}/transparency/").content.decode()
    assert "$180.00" in html


def test_private_program_report_is_404_to_anonymous(client, client_for, admin, artist, program):
    assert client.get(f"/programs/{program.pk}/transparency/").status_code == 404
    assert client.get("/programs/999999/transparency/").status_code == 404
    outsider = UserFactory(username="outsider")
    assert client_for(outsider).get(f"/programs/{program.pk}/transparency/").status_code == 404
    assert client_for(artist).get(f"/programs/{program.pk}/transparency/").status_code == 200


def test_transparency_index_lists_public_programs_only(client, public_program, program):
    html = client.get("/transparency/").content.decode()
    assert f"/programs/{public_program.pk}/transparency/" in html
    assert f"/programs/{program.pk}/transparency/" not in html


def test_bulk_accept_in_the_django_admin_is_all_or_nothing_too(client_for, admin, artist, program):
    """The admin site's action calls the same service as the review page: one behaviour."""
    admin.is_staff = True
    admin.is_superuser = True
    admin.save()
    good = log_feedback(program, artist)
    own = own_work(program, admin)
    response = client_for(admin).post(
        "/admin/ledger/contribution/",
        {"action": "accept_selected", "_selected_action": [good.pk, own.pk]},
        follow=True,
    )
    assert b"Nothing was accepted" in response.content
    assert set(Contribution.objects.values_list("status", flat=True)) == {"submitted"}
    client_for(admin).post(
        "/admin/ledger/contribution/",
        {"action": "accept_selected", "_selected_action": [good.pk]},
        follow=True,
    )
    good.refresh_from_db()
    assert good.status == "accepted"
