"""Reviewing: the queue, accept, reject, reverse, bulk acceptance (pages and the Django admin)."""

import pytest

from ledger import services
from ledger.models import Contribution, Membership
from tests.conftest import accepted_work, log_bug, log_feedback

from .pages import field_error, own_work

pytestmark = pytest.mark.django_db


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
