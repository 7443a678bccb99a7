"""Deadlines on the API: the program settings, contributions' due dates and `?overdue=`,
balances' overdue money, the report's deadline figures and their withholding."""

import datetime as dt

import pytest

from ledger import clock, services
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import TODAY, accepted_work, log_bug, log_feedback, make_program
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEADLINES = ("review_within_days", "pay_within_days", "dispute_window_days")


def on(day: dt.date):
    return clock.frozen(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@pytest.fixture
def manager_api(manager):
    return client_for(manager)


# --- program settings ----------------------------------------------------------------------


def test_programs_show_their_deadlines(artist_api, program):
    body = artist_api.get(f"/api/v1/programs/{program.pk}/").json()
    assert {k: body[k] for k in (*DEADLINES, "auto_accept_overdue")} == {
        "review_within_days": 14,
        "pay_within_days": 30,
        "dispute_window_days": 30,
        "auto_accept_overdue": False,
    }
    listed = artist_api.get("/api/v1/programs/").json()["results"]
    assert listed[0]["review_within_days"] == 14


@pytest.mark.parametrize("field", DEADLINES)
@pytest.mark.parametrize("bad", [0, 366, -3, 2**63, "14", "", 14.0, 1.5, True, None, [14], {}])
def test_patch_refuses_a_deadline_out_of_range_or_not_an_integer(manager_api, program, field, bad):
    url = f"/api/v1/programs/{program.pk}/"
    response = manager_api.patch(url, {field: bad, "name": "Renamed"}, format="json")
    assert fields_of(problem(response, 400, "validation_error")) == {field}
    program.refresh_from_db()
    assert program.name != "Renamed" and getattr(program, field) in (14, 30)


@pytest.mark.parametrize("bad", ["true", 1, 0, None, "yes"])
def test_patch_refuses_auto_accept_that_is_not_a_boolean(manager_api, program, bad):
    response = manager_api.patch(
        f"/api/v1/programs/{program.pk}/", {"auto_accept_overdue": bad}, format="json"
    )
    assert fields_of(problem(response, 400, "validation_error")) == {"auto_accept_overdue"}


def test_patch_sets_the_deadlines_and_moves_due_dates(manager_api, artist, program):
    with on(days_ago(4)):
        waiting = log_feedback(program, artist)
    url = f"/api/v1/programs/{program.pk}/"
    changes = {
        "review_within_days": 1,
        "pay_within_days": 365,
        "dispute_window_days": 7,
        "auto_accept_overdue": True,
    }
    response = manager_api.patch(url, changes, format="json")
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in changes} == changes
    assert {k: manager_api.get(url).json()[k] for k in changes} == changes
    work = manager_api.get(f"/api/v1/contributions/{waiting.pk}/").json()
    assert work["review_due_on"] == days_ago(3).isoformat() and work["overdue"] is True


def test_patch_still_refuses_a_new_currency(manager_api, program):
    response = manager_api.patch(
        f"/api/v1/programs/{program.pk}/",
        {"currency": "EUR", "review_within_days": 3},
        format="json",
    )
    assert fields_of(problem(response, 400)) == {"currency"}
    program.refresh_from_db()
    assert (program.currency, program.review_within_days) == ("USD", 14)


def test_only_a_manager_changes_the_deadlines(admin, program):
    reviewer = UserFactory(username="rev-api")
    services.grant_role(actor=admin, program=program, user=reviewer, role="reviewer")
    response = client_for(reviewer).patch(
        f"/api/v1/programs/{program.pk}/", {"review_within_days": 3}, format="json"
    )
    problem(response, 403, "permission_denied")


# --- contributions -------------------------------------------------------------------------


def test_contributions_say_when_they_are_due_and_whether_overdue(admin, admin_api, artist, program):
    with on(days_ago(15)):
        late = log_feedback(program, artist)  # due yesterday
    with on(days_ago(14)):
        due_today = log_bug(program, artist)
    with on(days_ago(20)):
        reviewed = accepted_work(program, artist, admin, "1.00")
    rows = {c["id"]: c for c in admin_api.get("/api/v1/contributions/").json()["results"]}
    assert rows[late.pk]["review_due_on"] == days_ago(1).isoformat()
    assert rows[late.pk]["overdue"] is True
    assert rows[due_today.pk]["review_due_on"] == TODAY.isoformat()
    assert rows[due_today.pk]["overdue"] is False
    assert rows[reviewed.pk]["overdue"] is False  # reviewed: never overdue

    def ids(query):
        return {c["id"] for c in admin_api.get(f"/api/v1/contributions/{query}").json()["results"]}

    assert ids("?overdue=true") == {late.pk}
    assert ids("?overdue=false") == {due_today.pk, reviewed.pk}
    assert ids(f"?overdue=true&program={program.pk}&status=submitted") == {late.pk}
    with on(TODAY + dt.timedelta(days=1)):  # tomorrow, the second one is late too
        assert ids("?overdue=true") == {late.pk, due_today.pk}
        detail = admin_api.get(f"/api/v1/contributions/{due_today.pk}/").json()
        assert detail["overdue"] is True


@pytest.mark.parametrize("bad", ["yes", "1", "True", "", "on"])
def test_overdue_filter_takes_true_or_false_only(admin_api, bad):
    assert fields_of(problem(admin_api.get(f"/api/v1/contributions/?overdue={bad}"), 400)) == {
        "overdue"
    }


def test_an_artist_filters_its_own_overdue_work_only(artist_api, artist, artist2, program):
    with on(days_ago(30)):
        mine = log_feedback(program, artist)
        log_feedback(program, artist2)
    got = artist_api.get("/api/v1/contributions/?overdue=true").json()["results"]
    assert [c["id"] for c in got] == [mine.pk]


# --- balances ------------------------------------------------------------------------------


def test_balances_show_overdue_money_and_the_oldest_unpaid_work(
    admin, admin_api, artist, artist2, program
):
    with on(days_ago(50)):
        accepted_work(program, artist, admin, "2.00")  # 90.00
    with on(days_ago(10)):
        accepted_work(program, artist, admin, "1.00")  # 45.00
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=2500, kind="grant"
        )
    rows = {
        b["artist"]: b
        for b in admin_api.get(f"/api/v1/balances/?program={program.pk}").json()["results"]
    }
    mine = rows[artist.pk]
    assert (mine["outstanding"], mine["overdue"]) == ("110.00", "65.00")
    assert mine["oldest_unpaid_on"] == days_ago(50).isoformat()
    assert (rows[artist2.pk]["overdue"], rows[artist2.pk]["oldest_unpaid_on"]) == ("0.00", None)
    yen = make_program(admin, currency="JPY", hourly="1500")
    services.enroll_artist(actor=admin, program=yen, artist=artist)
    with on(days_ago(40)):
        accepted_work(yen, artist, admin, "1.00")
    mine = client_for(artist).get("/api/v1/balances/").json()["results"]
    assert [(b["currency"], b["overdue"]) for b in mine] == [("USD", "65.00"), ("JPY", "1500")]


# --- the report ----------------------------------------------------------------------------


def test_report_adds_overdue_reviews_and_money_withheld_as_the_rest(
    admin, anon, artist, artist2, settings
):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 2
    program = make_program(admin, public=True)
    for person in (artist, artist2):
        services.enroll_artist(actor=admin, program=program, artist=person)
    with on(days_ago(40)):
        accepted_work(program, artist, admin)  # 90.00, unpaid 40 days
    with on(days_ago(20)):
        log_bug(program, artist2)  # overdue review
    url = f"/api/v1/programs/{program.pk}/report/"
    body = anon.get(url).json()
    assert body["withheld"] is True
    assert body["reviews_overdue"] is None and body["overdue_outstanding"] is None
    insider = client_for(artist2).get(url).json()
    assert insider["withheld"] is False
    assert (insider["reviews_overdue"], insider["overdue_outstanding"]) == (1, "90.00")
    with on(days_ago(5)):
        accepted_work(program, artist2, admin)  # a second contributor: no longer withheld
    body = anon.get(url).json()
    assert body["withheld"] is False
    assert (body["reviews_overdue"], body["overdue_outstanding"]) == (1, "90.00")
