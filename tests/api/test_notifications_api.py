"""The v1.1 contract of notifications, preferences and payout confirmations on the API."""

import datetime as dt

import pytest

from accounts.models import User
from ledger import clock, services
from ledger.models import AuditEvent, Notification, NotificationKind, Payout
from ledger.notifications import notify
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import accepted_work, log_feedback
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
NOTIFICATION_FIELDS = {"id", "kind", "message", "subject_type", "subject", "created_at", "read_at"}


def tell(user, subject, message="m", kind=NotificationKind.PAYOUT_RECORDED):
    return notify(user=user, kind=kind, message=message, subject=subject)


# --- GET /notifications/ -----------------------------------------------------------------------


def test_the_list_is_the_callers_own_newest_first(admin, artist, artist2, program, artist_api):
    work = log_feedback(program, artist)
    with clock.frozen(clock.now() - dt.timedelta(hours=1)):
        older = tell(artist, work, "older", NotificationKind.CONTRIBUTION_REVIEWED)
    newer = tell(artist, program, "newer")
    tell(artist2, program, "someone else's")
    tell(admin, program, "the operator's")
    body = artist_api.get(f"{API}/notifications/").json()
    assert set(body) >= {"results", "next", "previous"}
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    row = body["results"][1]
    assert set(row) == NOTIFICATION_FIELDS
    assert row == {
        "id": older.pk,
        "kind": "contribution_reviewed",
        "message": "older",
        "subject_type": "contribution",
        "subject": work.pk,  # an integer id, as every id of the API
        "created_at": older.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "read_at": None,
    }


def test_unread_filter_and_pages(artist, program, artist_api):
    rows = [tell(artist, program, f"n{i}") for i in range(5)]
    services.mark_read(notification=rows[0], user=artist)
    unread = artist_api.get(f"{API}/notifications/?unread=true").json()["results"]
    assert {row["id"] for row in unread} == {n.pk for n in rows[1:]}
    read = artist_api.get(f"{API}/notifications/?unread=false").json()["results"]
    assert [row["id"] for row in read] == [rows[0].pk] and read[0]["read_at"] is not None
    first = artist_api.get(f"{API}/notifications/?page_size=2").json()
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    last = artist_api.get(f"{API}/notifications/?page_size=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None
    for bad in ("yes", "1", "TRUE"):
        body = problem(artist_api.get(f"{API}/notifications/?unread={bad}"), 400)
        assert fields_of(body) == {"unread"}
    problem(artist_api.get(f"{API}/notifications/?page=9"), 404)


def test_anonymous_has_no_inbox(anon):
    problem(anon.get(f"{API}/notifications/"), 401)


# --- POST /notifications/{id}/read/ and /read-all/ ---------------------------------------------


def test_marking_one_read_answers_the_notification(artist, program, artist_api):
    notification = tell(artist, program)
    response = artist_api.post(f"{API}/notifications/{notification.pk}/read/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == NOTIFICATION_FIELDS and body["id"] == notification.pk
    assert body["read_at"] is not None
    again = artist_api.post(f"{API}/notifications/{notification.pk}/read/").json()
    assert again["read_at"] == body["read_at"]  # already read: unchanged
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_anothers_notification_is_not_found_to_everyone(admin, artist, artist2, program):
    theirs = tell(artist, program)
    for caller in (artist2, admin):  # another artist, an operator
        problem(client_for(caller).post(f"{API}/notifications/{theirs.pk}/read/"), 404)
    problem(client_for(artist).post(f"{API}/notifications/{theirs.pk + 1000}/read/"), 404)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_read_all_marks_only_the_callers_unread(artist, artist2, program, artist_api):
    mine = [tell(artist, program) for _ in range(3)]
    services.mark_read(notification=mine[0], user=artist)
    theirs = tell(artist2, program)
    response = artist_api.post(f"{API}/notifications/read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 2}
    assert not Notification.objects.of(artist).unread().exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert artist_api.post(f"{API}/notifications/read-all/").json() == {"marked": 0}


# --- GET/PATCH /me/preferences/ ----------------------------------------------------------------


def test_preferences_read_and_change(artist, artist_api):
    unset = {"iban": None, "bic": None}  # banking details: tests/api/test_bank_details_api.py
    assert artist_api.get(f"{API}/me/preferences/").json() == {"email_notifications": True} | unset
    response = artist_api.patch(
        f"{API}/me/preferences/", {"email_notifications": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"email_notifications": False} | unset
    assert User.objects.get(pk=artist.pk).email_notifications is False
    assert artist_api.get(f"{API}/me/preferences/").json() == {"email_notifications": False} | unset
    assert (
        artist_api.patch(f"{API}/me/preferences/", {}, format="json").json()
        == {"email_notifications": False} | unset
    )
    audit = AuditEvent.objects.filter(action="user.preferences", actor=artist)
    assert audit.count() == 1 and audit.get().data == {"email_notifications": False}


@pytest.mark.parametrize("value", ["false", 0, 1, None, "yes", [], {}])
def test_preferences_take_json_booleans_only(artist, artist_api, value):
    body = problem(
        artist_api.patch(f"{API}/me/preferences/", {"email_notifications": value}, format="json"),
        400,
        "validation_error",
    )
    assert fields_of(body) == {"email_notifications"}
    assert User.objects.get(pk=artist.pk).email_notifications is True
    assert not AuditEvent.objects.filter(action="user.preferences").exists()


# --- POST /payouts/{id}/confirm/ ---------------------------------------------------------------


@pytest.fixture
def paid(admin, artist, program):
    return services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=1200, kind="grant"
    )


def test_the_artist_confirms_a_paid_payout(paid, artist_api):
    listed = artist_api.get(f"{API}/payouts/{paid.pk}/").json()
    assert (listed["acknowledged"], listed["acknowledged_at"]) == (None, None)
    response = artist_api.post(f"{API}/payouts/{paid.pk}/confirm/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == paid.pk and body["status"] == "paid"
    assert body["acknowledged"] == "confirmed" and body["acknowledged_at"].endswith("Z")
    # Confirming twice: the same answer (a retry or a second click is not an error).
    again = artist_api.post(f"{API}/payouts/{paid.pk}/confirm/")
    assert again.status_code == 200 and again.json() == body
    row = next(p for p in artist_api.get(f"{API}/payouts/").json()["results"] if p["id"] == paid.pk)
    assert (row["acknowledged"], row["acknowledged_at"]) == ("confirmed", body["acknowledged_at"])


def test_others_are_refused_and_the_invisible_is_not_found(admin, artist2, program, paid):
    auditor = UserFactory(username="auditor")
    services.grant_role(actor=admin, program=program, user=auditor, role="auditor")
    for caller in (admin, auditor):  # they see it: 403
        problem(client_for(caller).post(f"{API}/payouts/{paid.pk}/confirm/"), 403)
    problem(client_for(artist2).post(f"{API}/payouts/{paid.pk}/confirm/"), 404)
    assert Payout.objects.get(pk=paid.pk).acknowledged is None


def test_only_a_paid_payout_is_confirmed(admin, artist, program, paid, artist_api):
    services.void_payout(payout=paid, actor=admin, reason="Recorded twice")
    problem(artist_api.post(f"{API}/payouts/{paid.pk}/confirm/"), 409, "invalid_transition")


# --- statements and the report -----------------------------------------------------------------


def test_statement_lines_say_which_payments_were_confirmed(admin, artist, program, artist_api):
    accepted_work(program, artist, admin)
    confirmed = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=500, kind="grant"
    )
    open_one = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=700, kind="grant"
    )
    artist_api.post(f"{API}/payouts/{confirmed.pk}/confirm/")
    statement = artist_api.get(f"{API}/statements/?program={program.pk}").json()
    lines = [(line["kind"], line["payout"], line["acknowledged"]) for line in statement["lines"]]
    assert lines == [
        ("acceptance", None, None),
        ("payout", confirmed.pk, "confirmed"),
        ("payout", open_one.pk, None),
    ]
    # The confirmation is not part of the chain: the statement still checks against it.
    check = artist_api.post(f"{API}/statements/verify/", statement, format="json").json()
    assert check["ok"] is True, check


def test_report_paid_confirmed_and_withheld_from_outsiders(
    admin, artist, program, paid, artist_api, settings
):
    report = f"{API}/programs/{program.pk}/report/"
    assert artist_api.get(report).json()["paid_confirmed"] == "0.00"
    artist_api.post(f"{API}/payouts/{paid.pk}/confirm/")
    assert artist_api.get(report).json()["paid_confirmed"] == "12.00"
    services.update_program(actor=admin, program=program, public=True)
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 5  # too few contributors for outsiders
    outsider = client_for(UserFactory(username="outsider"))
    body = outsider.get(report).json()
    assert body["withheld"] is True and body["paid_confirmed"] is None
    services.void_payout(payout=paid, actor=admin, reason="Bounced")
    assert artist_api.get(report).json()["paid_confirmed"] == "0.00"
