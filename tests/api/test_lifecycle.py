"""The whole life of a program through the API, as a client that knows only API.md."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from tests.api.conftest import client_for, problem
from tests.factories import PASSWORD

TODAY = dt.date.today()


@pytest.mark.django_db
def test_program_life_end_to_end(admin, anon, settings):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 2
    # Tokens from credentials.
    r = anon.post("/api/v1/auth/tokens/", {"username": "admin1", "password": PASSWORD}, "json")
    assert r.status_code == 201, r.content
    token = r.json()["token"]
    assert set(r.json()) >= {"id", "token", "name", "created_at", "expires_at"}
    api = client_for()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/me/").json()["role"] == "admin"

    # Artists.
    ids = []
    for name in ("ada", "bob"):
        r = api.post(
            "/api/v1/artists/",
            {
                "username": name,
                "email": f"{name}@example.org",
                "display_name": name.title(),
                "password": "a-long-passphrase-42",
            },
        )
        assert r.status_code == 201, r.content
        assert r.json()["role"] == "artist"
        ids.append(r.json()["id"])
    ada, bob = ids

    # Program, rate card, members.
    r = api.post("/api/v1/programs/", {"name": "Early access", "currency": "USD", "public": True})
    assert r.status_code == 201, r.content
    program = r.json()
    assert program["status"] == "active" and program["public"] is True
    pid = program["id"]
    r = api.post(
        f"/api/v1/programs/{pid}/rate-cards/",
        {
            "effective_from": str(TODAY - dt.timedelta(days=30)),
            "hourly_rate": "45",
            "bug_bounties": {"low": "10", "medium": "50.5", "high": "200.00", "critical": "0"},
        },
    )
    assert r.status_code == 201, r.content
    card = r.json()
    assert card["hourly_rate"] == "45.00"
    assert card["bug_bounties"] == {
        "low": "10.00",
        "medium": "50.50",
        "high": "200.00",
        "critical": "0.00",
    }
    assert api.get(f"/api/v1/programs/{pid}/rate-cards/{card['id']}/").json() == card
    assert api.patch(f"/api/v1/programs/{pid}/rate-cards/{card['id']}/", {}).status_code == 405
    for artist_id in (ada, bob):
        r = api.post(f"/api/v1/programs/{pid}/members/", {"artist": artist_id})
        assert r.status_code == 201, r.content
    assert len(api.get(f"/api/v1/programs/{pid}/members/").json()["results"]) == 2

    # Artists log work.
    ada_api = client_for()
    r = ada_api.post(
        "/api/v1/auth/tokens/", {"username": "ada", "password": "a-long-passphrase-42"}, "json"
    )
    ada_api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    bob_api = client_for()
    r = bob_api.post(
        "/api/v1/auth/tokens/", {"username": "bob", "password": "a-long-passphrase-42"}, "json"
    )
    bob_api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")

    r = ada_api.post(
        "/api/v1/contributions/",
        {
            "program": pid,
            "kind": "feedback",
            "title": "Session 1",
            "occurred_on": str(TODAY),
            "hours": "2.5",
        },
    )
    assert r.status_code == 201, r.content
    feedback = r.json()
    assert feedback["status"] == "submitted" and feedback["value"] is None
    assert feedback["hours"] == "2.50" and feedback["artist"] == ada
    r = ada_api.post(
        "/api/v1/contributions/",
        {
            "program": pid,
            "kind": "bug_report",
            "title": "Crash",
            "occurred_on": str(TODAY),
            "severity": "high",
        },
    )
    bug = r.json()
    r = bob_api.post(
        "/api/v1/contributions/",
        {
            "program": pid,
            "kind": "bug_report",
            "title": "Typo",
            "occurred_on": str(TODAY),
            "severity": "medium",
        },
    )
    bob_bug = r.json()
    # Pending value before review.
    rows = api.get(f"/api/v1/balances/?program={pid}&artist={ada}").json()["results"]
    assert rows[0]["pending_value"] == "312.50"

    # Review.
    r = api.post(f"/api/v1/contributions/{feedback['id']}/accept/", {"note": "thanks"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "accepted" and r.json()["value"] == "112.50"
    assert api.post(f"/api/v1/contributions/{bug['id']}/accept/", {}).json()["value"] == "200.00"
    assert api.post(f"/api/v1/contributions/{bob_bug['id']}/accept/").json()["value"] == "50.50"
    problem(api.post(f"/api/v1/contributions/{bug['id']}/accept/"), 409, "invalid_transition")
    r = api.post(f"/api/v1/contributions/{bug['id']}/reverse/", {"reason": "duplicate"})
    assert r.json()["status"] == "reversed"

    # Grants and settlements.
    r = api.post(
        "/api/v1/payouts/",
        {"artist": ada, "program": pid, "amount": "100", "kind": "grant", "method": "wire"},
    )
    assert r.status_code == 201, r.content
    assert r.json()["amount"] == "100.00" and r.json()["currency"] == "USD"
    problem(
        api.post(
            "/api/v1/payouts/",
            {"artist": ada, "program": pid, "amount": "12.51", "kind": "settlement"},
        ),
        409,
        "insufficient_balance",
    )
    r = api.post(
        "/api/v1/payouts/",
        {"artist": ada, "program": pid, "amount": "12.50", "kind": "settlement"},
    )
    assert r.status_code == 201, r.content
    settlement = r.json()
    r = api.post(f"/api/v1/payouts/{settlement['id']}/void/", {"reason": "bounced"})
    assert r.json()["status"] == "void"

    # Balances.
    (row,) = ada_api.get("/api/v1/balances/").json()["results"]
    assert row == {
        "artist": ada,
        "program": pid,
        "currency": "USD",
        "valued": "112.50",
        "paid": "100.00",
        "grants": "100.00",
        "settlements": "0.00",
        "outstanding": "12.50",
        "pending_value": "0.00",
        # Accepted today: unpaid, not yet overdue (the program pays within 30 days).
        "overdue": "0.00",
        "oldest_unpaid_on": row["oldest_unpaid_on"],
    }
    assert row["oldest_unpaid_on"] == dt.datetime.now(dt.UTC).date().isoformat()

    # Statement, JSON and CSV.
    st = ada_api.get(f"/api/v1/statements/?program={pid}").json()
    assert st["currency"] == "USD" and st["opening_balance"] == "0.00"
    assert st["closing_balance"] == "12.50"
    assert [line["amount"] for line in st["lines"]] == [
        "112.50",
        "200.00",
        "-200.00",
        "-100.00",
        "-12.50",
        "12.50",
    ]
    assert st["lines"][-1]["balance"] == "12.50"
    assert len(st["head_hash"]) == 64
    r = ada_api.get(f"/api/v1/statements/?program={pid}&format=csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert table[0][:5] == ["date", "kind", "description", "amount", "balance"]
    assert [row[3] for row in table[1:]] == [line["amount"] for line in st["lines"]]
    r = ada_api.get(f"/api/v1/statements/?program={pid}", HTTP_ACCEPT="text/csv")
    assert r["Content-Type"].startswith("text/csv")
    problem(bob_api.get(f"/api/v1/statements/?program={pid}&artist={ada}"), 404, "not_found")
    assert api.get(f"/api/v1/statements/?program={pid}&artist={bob}").json()["closing_balance"] == (
        "50.50"
    )

    # Report: members see figures; anonymous sees them once there are enough contributors.
    report = ada_api.get(f"/api/v1/programs/{pid}/report/").json()
    assert report["withheld"] is False
    assert report["contributors"] == 2
    assert report["feedback_hours"] == "2.50"
    assert report["bug_reports_accepted"] == 1
    assert report["valued"] == "163.00"
    assert report["paid"] == "100.00"
    assert report["outstanding"] == "63.00" and report["paid_ahead"] == "0.00"
    assert report["paid_ratio"] == "0.6135"
    anon_report = anon.get(f"/api/v1/programs/{pid}/report/").json()
    assert anon_report["withheld"] is False and anon_report["valued"] == "163.00"
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 3
    anon_report = anon.get(f"/api/v1/programs/{pid}/report/").json()
    assert anon_report["withheld"] is True and anon_report["valued"] is None

    # Ledger entries and verification.
    entries = api.get(f"/api/v1/ledger/entries/?program={pid}").json()["results"]
    assert [e["kind"] for e in entries] == [
        "acceptance",
        "acceptance",
        "acceptance",
        "reversal",
        "payout",
        "payout",
        "void",
    ]
    for entry in entries:
        assert sum(Decimal(p["amount"]) for p in entry["postings"]) == 0
    assert entries[1]["prev_hash"] == entries[0]["hash"]
    ada_entries = ada_api.get("/api/v1/ledger/entries/").json()["results"]
    assert len(ada_entries) == 6  # all but bob's acceptance
    r = api.get(f"/api/v1/ledger/verify/?program={pid}").json()
    assert r["ok"] is True and r["entries_checked"] == 7 and r["problems"] == []
    assert r["head_hash"] == entries[-1]["hash"] == st["head_hash"]
