"""The fair process as its users meet it: an artist's work goes overdue and shows as overdue on
their home and on the public page; the program's auto-accept accepts it after the deadline; a
rejected bug report is disputed and a different reviewer upholds it, raising the artist's
balance by its bounty; one payout is confirmed by its artist, another is disputed as never
received and voided by a second treasurer. Each step tells the artist in the inbox and by email,
seen in a real SMTP server's mailbox.

Writes go through the REST API as a client would (`client_for`: a bearer token each), pages
through Django's test client; the clock is moved with `ledger.clock.frozen`, as a shifted
system clock moves it for the running server. Tasks run when enqueued (tests/conftest.py), so
each email reaches the SMTP server once the change that causes it commits.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from ledger import clock, services
from ledger.models import Contribution, Notification
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.test_mail import smtp  # noqa: F401 (a fixture: a real SMTP server)

pytestmark = pytest.mark.django_db(transaction=True)

HOURLY = 4500  # minor units (USD cents) per hour
HIGH = 20000  # the high-severity bounty, minor units


def cents(minor: int) -> Decimal:
    """Minor units of USD as the API writes them (two decimals)."""
    return Decimal(minor).scaleb(-2)


def at(moment: dt.datetime):
    return clock.frozen(moment)


def kinds(api) -> list[str]:
    response = api.get("/api/v1/notifications/?page_size=100")
    assert response.status_code == 200, response.content
    return [n["kind"] for n in response.json()["results"]]


def balance(api, program) -> dict:
    rows = api.get(f"/api/v1/balances/?program={program.pk}").json()["results"]
    assert len(rows) == 1, rows
    return rows[0]


def test_overdue_auto_accept_disputes_and_confirmations_end_to_end(smtp):  # noqa: F811
    start = clock.now().replace(microsecond=0)
    operator = UserFactory(username="operator", is_superuser=True)
    people = {
        name: UserFactory(username=name)
        for name in ("rev1", "rev2", "tre1", "tre2", "ada", "bo", "cy", "di", "ed")
    }
    ada = people["ada"]
    artists = [people[n] for n in ("ada", "bo", "cy", "di", "ed")]

    # Ten days ago: a public program, its staff, five artists each with accepted work (so the
    # public report is not withheld), none of it paid.
    with at(start - dt.timedelta(days=10)):
        program = services.create_program(
            actor=operator, name="Aurora", currency="USD", public=True
        )
        services.add_rate_card(
            actor=operator,
            program=program,
            effective_from=(start - dt.timedelta(days=30)).date(),
            hourly_rate_minor=HOURLY,
            bounties={"low": 1000, "medium": 5000, "high": HIGH, "critical": 50000},
        )
        for name, role in (("rev1", "reviewer"), ("rev2", "reviewer")):
            services.grant_role(actor=operator, program=program, user=people[name], role=role)
        for name in ("tre1", "tre2"):
            services.grant_role(
                actor=operator, program=program, user=people[name], role="treasurer"
            )
        for artist in artists:
            services.enroll_artist(actor=operator, program=program, artist=artist)
            work = services.submit_contribution(
                actor=artist,
                program=program,
                kind="feedback",
                title="Onboarding notes",
                occurred_on=clock.today(),
                hours=Decimal("1.00"),
            )
            services.accept_contribution(contribution=work, actor=people["rev1"])

    manager_api = client_for(operator)
    response = manager_api.patch(
        f"/api/v1/programs/{program.pk}/",
        {"review_within_days": 3, "pay_within_days": 7},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["review_within_days"], response.json()["auto_accept_overdue"]) == (
        3,
        False,
    )

    ada_api = client_for(ada)
    rev1_api, rev2_api = client_for(people["rev1"]), client_for(people["rev2"])
    tre1_api, tre2_api = client_for(people["tre1"]), client_for(people["tre2"])
    # What the set-up told people is not part of the story.
    Notification.objects.all().delete()
    smtp.messages.clear()

    # Today: ada logs two hours of feedback; nobody reviews it.
    with at(start):
        response = ada_api.post(
            "/api/v1/contributions/",
            {
                "program": program.pk,
                "kind": "feedback",
                "title": "Late review",
                "occurred_on": clock.today().isoformat(),
                "hours": "2",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        late = response.json()
        assert late["review_due_on"] == (clock.today() + dt.timedelta(days=3)).isoformat()
        assert late["overdue"] is False

    # Four days later it is overdue: in ada's list, on ada's home and on the public page.
    later = start + dt.timedelta(days=4)
    with at(later):
        overdue = ada_api.get("/api/v1/contributions/?overdue=true").json()["results"]
        assert [c["id"] for c in overdue] == [late["id"]]
        ada_pages = Client()
        ada_pages.force_login(ada)
        home = ada_pages.get("/").content.decode()
        assert "Your work waiting past its review deadline" in home and "Late review" in home
        public = Client().get(f"/programs/{program.pk}/transparency/").content.decode()
        assert 'data-testid="reviews-overdue">1<' in public
        report = client_for().get(f"/api/v1/programs/{program.pk}/report/").json()
        assert report["reviews_overdue"] == 1
        # The five artists' first work, accepted ten days ago and never paid, is overdue money.
        assert report["overdue_outstanding"] == str(cents(5 * HOURLY))
        assert balance(ada_api, program)["overdue"] == str(cents(HOURLY))

        # The manager turns on auto-accept; the deadline run accepts the work, as the system.
        response = manager_api.patch(
            f"/api/v1/programs/{program.pk}/", {"auto_accept_overdue": True}, format="json"
        )
        assert response.status_code == 200, response.content
        call_command("apply_deadlines", verbosity=0)
        call_command("apply_deadlines", verbosity=0)  # idempotent: nothing more
        accepted = ada_api.get(f"/api/v1/contributions/{late['id']}/").json()
        assert (accepted["status"], accepted["reviewed_by"], accepted["value"]) == (
            "accepted",
            None,
            str(cents(2 * HOURLY)),
        )
        assert Contribution.objects.filter(status="accepted", reviewed_by=None).count() == 1
        assert kinds(ada_api) == ["contribution_reviewed"]

        # A bug report, rejected by one reviewer, disputed, upheld by the other.
        response = ada_api.post(
            "/api/v1/contributions/",
            {
                "program": program.pk,
                "kind": "bug_report",
                "title": "Export crashes",
                "occurred_on": clock.today().isoformat(),
                "severity": "high",
            },
            format="json",
        )
        bug = response.json()
        response = rev1_api.post(
            f"/api/v1/contributions/{bug['id']}/reject/", {"reason": "Out of scope"}, format="json"
        )
        assert response.json()["status"] == "rejected"
        before = balance(ada_api, program)["outstanding"]
        response = ada_api.post(
            "/api/v1/disputes/",
            {
                "subject_type": "contribution",
                "subject": bug["id"],
                "claim": "rejection",
                "statement": "Export is in the test plan, section 2.",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        dispute = response.json()
        # The rejecting reviewer may not decide it.
        response = rev1_api.post(
            f"/api/v1/disputes/{dispute['id']}/uphold/", {"note": "Mine."}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "separation_of_duties"
        response = rev2_api.post(
            f"/api/v1/disputes/{dispute['id']}/uphold/",
            {"note": "It is in the plan."},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "upheld"
        after = balance(ada_api, program)["outstanding"]
        assert Decimal(after) - Decimal(before) == cents(HIGH)
        assert ada_api.get(f"/api/v1/contributions/{bug['id']}/").json()["status"] == "accepted"

        # One payout is confirmed by ada; another, "never received", is voided by tre2.
        paid = []
        for amount in ("50.00", "30.00"):
            response = tre1_api.post(
                "/api/v1/payouts/",
                {"artist": ada.pk, "program": program.pk, "amount": amount, "kind": "grant"},
                format="json",
            )
            assert response.status_code == 201, response.content
            paid.append(response.json())
        response = ada_api.post(f"/api/v1/payouts/{paid[0]['id']}/confirm/")
        assert response.status_code == 200, response.content
        assert response.json()["acknowledged"] == "confirmed"
        response = ada_api.post(
            "/api/v1/disputes/",
            {
                "subject_type": "payout",
                "subject": paid[1]["id"],
                "claim": "not_received",
                "statement": "Nothing arrived at my bank.",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        second = response.json()
        response = tre1_api.post(  # who paid it may not decide it
            f"/api/v1/disputes/{second['id']}/uphold/", {"note": "It left."}, format="json"
        )
        assert response.status_code == 403
        response = tre2_api.post(
            f"/api/v1/disputes/{second['id']}/uphold/",
            {"note": "The bank returned it."},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert ada_api.get(f"/api/v1/payouts/{paid[1]['id']}/").json()["status"] == "void"
        assert ada_api.get(f"/api/v1/payouts/{paid[0]['id']}/").json()["status"] == "paid"

        report = client_for().get(f"/api/v1/programs/{program.pk}/report/").json()
        assert (report["paid"], report["paid_confirmed"]) == ("50.00", "50.00")
        assert (report["disputes_upheld"], report["disputes_open"]) == (2, 0)

    # Every step told ada in the inbox, and by email through the real SMTP server.
    told = kinds(ada_api)
    assert sorted(told) == sorted(
        [
            "contribution_reviewed",  # accepted by the system
            "contribution_reviewed",  # the bug report rejected
            "dispute_decided",  # the rejection dispute upheld
            "payout_recorded",
            "payout_recorded",
            "dispute_decided",  # the non-receipt upheld
        ]
    )
    to_ada = [m for rcpt, m in smtp.messages if rcpt == [ada.email]]
    assert len(to_ada) == len(told)
    subjects = " | ".join(m["Subject"] for m in to_ada)
    assert "accepted automatically" in subjects and "was rejected" in subjects
    # And the deciders were told of the disputes they may decide.
    assert "dispute_opened" in kinds(rev2_api) and "dispute_opened" in kinds(tre2_api)
    assert "dispute_opened" not in kinds(rev1_api) + kinds(tre1_api)
    staff_mail = {rcpt[0] for rcpt, _ in smtp.messages}
    assert {people["rev2"].email, people["tre2"].email} <= staff_mail
