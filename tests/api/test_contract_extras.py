"""Contract details found by an independent client run: self-review reachable through the API,
and report totals that the served schema describes truthfully."""

import re

import pytest

from ledger import services
from tests.api.conftest import client_for, problem
from tests.conftest import TODAY, accepted_work

pytestmark = pytest.mark.django_db


def test_admin_enrolled_as_member_cannot_review_own_work(admin, admin2, program):
    api = client_for(admin)
    enrolled = api.post(
        f"/api/v1/programs/{program.pk}/members/", {"artist": admin.pk}, format="json"
    )
    assert enrolled.status_code == 201, enrolled.content
    own = api.post(
        "/api/v1/contributions/",
        {"program": program.pk, "artist": admin.pk, "kind": "bug_report", "title": "mine",
         "occurred_on": str(TODAY), "severity": "low"},
        format="json",
    )  # fmt: skip
    assert own.status_code == 201, own.content
    cid = own.json()["id"]
    for action, body in (("accept", {}), ("reject", {"reason": "x"})):
        problem(api.post(f"/api/v1/contributions/{cid}/{action}/", body, format="json"), 403)
    accepted = client_for(admin2).post(f"/api/v1/contributions/{cid}/accept/", {}, format="json")
    assert accepted.status_code == 200
    problem(api.post(f"/api/v1/contributions/{cid}/reverse/", {"reason": "x"}, format="json"), 403)


def test_report_hours_total_matches_the_served_schema(admin, artist, program):
    for _ in range(5):
        accepted_work(program, artist, admin, "24.00")  # 120 hours in all
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
    )
    api = client_for(admin)
    report = api.get(f"/api/v1/programs/{program.pk}/report/").json()
    assert report["feedback_hours"] == "120.00"
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    pattern = schema["components"]["schemas"]["Report"]["properties"]["feedback_hours"]["pattern"]
    assert re.match(pattern, report["feedback_hours"])
