"""Logging work, the rate preview, one's own list, the detail, withdrawing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from ledger import services
from ledger.models import Contribution
from tests.conftest import TODAY, accepted_work, log_bug, log_feedback, make_program

from .pages import field_error

pytestmark = pytest.mark.django_db


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
