"""/disputes/ on the API: the contract's fields, filters and visibility, each refusal as a
problem with its code, and what an upheld dispute shows in the entries and the report."""

import datetime as dt

import pytest

from ledger import clock, services
from ledger.models import Dispute
from tests.api.conftest import client_for, fields_of, problem
from tests.conftest import accepted_work, log_feedback, make_program, rejected_work
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "id", "program", "artist", "subject_type", "subject", "claim", "statement", "evidence_url",
    "status", "opened_at", "decided_at", "decided_by", "decision_note", "outcome",
}  # fmt: skip


@pytest.fixture
def reviewer2(admin, program):
    person = UserFactory(username="reviewer2")
    services.grant_role(actor=admin, program=program, user=person, role="reviewer")
    return person


def open_body(subject, claim="rejection", subject_type="contribution", **extra):
    return {
        "subject_type": subject_type,
        "subject": subject.pk,
        "claim": claim,
        "statement": "It was in scope.",
        **extra,
    }


def test_the_artist_opens_one_and_reads_it_back_as_the_contract_says(
    admin, artist, artist_api, program
):
    work = rejected_work(program, artist, admin)
    response = artist_api.post(
        "/api/v1/disputes/",
        open_body(work, evidence_url="https://example.org/brief"),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert body | {"id": None, "opened_at": None} == {
        "id": None,
        "program": program.pk,
        "artist": artist.pk,
        "subject_type": "contribution",
        "subject": work.pk,
        "claim": "rejection",
        "statement": "It was in scope.",
        "evidence_url": "https://example.org/brief",
        "status": "open",
        "opened_at": None,
        "decided_at": None,
        "decided_by": None,
        "decision_note": "",
        "outcome": "",
    }
    assert body["opened_at"].endswith("Z")
    assert artist_api.get(f"/api/v1/disputes/{body['id']}/").json() == body
    assert artist_api.get("/api/v1/disputes/").json()["results"] == [body]


def test_visibility_artist_its_own_staff_their_programs_others_404(admin, artist, artist2, program):
    mine = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    theirs = services.open_dispute(
        actor=artist2, subject=rejected_work(program, artist2, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    other = make_program(admin, currency="EUR")
    outsider_staff = UserFactory(username="other-staff")
    services.grant_role(actor=admin, program=other, user=outsider_staff, role="reviewer")
    auditor = UserFactory(username="auditor")
    services.grant_role(actor=admin, program=program, user=auditor, role="auditor")

    def ids(user, query=""):
        return {
            row["id"] for row in client_for(user).get(f"/api/v1/disputes/{query}").json()["results"]
        }

    assert ids(artist) == {mine.pk}
    assert ids(auditor) == ids(admin) == {mine.pk, theirs.pk}
    assert ids(outsider_staff) == set()
    assert ids(auditor, f"?artist={artist2.pk}") == {theirs.pk}
    assert ids(auditor, f"?program={other.pk}") == set()
    problem(client_for(artist).get(f"/api/v1/disputes/{theirs.pk}/"), 404, "not_found")
    problem(client_for(outsider_staff).get(f"/api/v1/disputes/{mine.pk}/"), 404, "not_found")
    problem(client_for(None).get("/api/v1/disputes/"), 401, "not_authenticated")


def test_filters_by_status_and_refuses_bad_filters(admin, artist, program, reviewer2):
    first = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="y",
    )  # fmt: skip
    services.dismiss_dispute(dispute=first, actor=reviewer2, note="No.")
    api = client_for(admin)
    rows = api.get("/api/v1/disputes/?status=dismissed").json()["results"]
    assert [(row["id"], row["status"]) for row in rows] == [(first.pk, "dismissed")]
    assert len(api.get("/api/v1/disputes/?status=open").json()["results"]) == 1
    for query in (
        "?status=closed",
        "?status=",
        "?program=abc",
        "?artist=0",
        "?status=open&status=open",
    ):
        body = problem(api.get(f"/api/v1/disputes/{query}"), 400, "validation_error")
        assert fields_of(body) & {"status", "program", "artist"}, query


def test_refusals_of_opening_name_their_field_or_code(admin, artist, artist2, program):
    api = client_for(artist)
    work = rejected_work(program, artist, admin)
    accepted = accepted_work(program, artist, admin)
    cases = [
        (open_body(work, claim="valuation"), "claim"),
        (open_body(accepted, claim="rejection"), "claim"),
        (open_body(work, claim="not_received"), "claim"),
        (open_body(work, claim="nonsense"), "claim"),
        (open_body(work, subject_type="payout", claim="not_received"), "subject"),
        (open_body(rejected_work(program, artist2, admin)), "subject"),  # not its own: unseen
        (open_body(work, statement="  "), "statement"),
        (open_body(work, evidence_url="javascript:alert(1)"), "evidence_url"),
        (open_body(work, evidence_url="https://exa mple.org"), "evidence_url"),
        ({**open_body(work), "subject": "abc"}, "subject"),
    ]
    for body, field in cases:
        answer = problem(
            api.post("/api/v1/disputes/", body, format="json"), 400, "validation_error"
        )
        assert field in fields_of(answer), (body, answer)
    # Staff see the work but it is not theirs to dispute.
    problem(client_for(admin).post("/api/v1/disputes/", open_body(work), format="json"), 403)
    assert not Dispute.objects.exists()


def test_already_disputed_and_window_closed_are_409s(admin, artist, program):
    api = client_for(artist)
    work = rejected_work(program, artist, admin)
    assert api.post("/api/v1/disputes/", open_body(work), format="json").status_code == 201
    body = problem(api.post("/api/v1/disputes/", open_body(work), format="json"), 409)
    assert body["code"] == "already_disputed"
    later = clock.now() + dt.timedelta(days=31)
    old = rejected_work(program, artist, admin)
    with clock.frozen(later):
        body = problem(api.post("/api/v1/disputes/", open_body(old), format="json"), 409)
    assert body["code"] == "dispute_window_closed"
    assert "dispute window closed" in body["detail"]
    assert Dispute.objects.count() == 1


def test_deciding_through_the_api(admin, artist, program, reviewer2):
    work = accepted_work(program, artist, admin, hours="2.00")
    dispute = services.open_dispute(
        actor=artist, subject=work, claim="valuation", statement="Three hours."
    )
    url = f"/api/v1/disputes/{dispute.pk}/"
    body = problem(client_for(admin).post(url + "uphold/", {"note": "x"}, format="json"), 403)
    assert body["errors"][0]["code"] == "separation_of_duties"  # admin accepted the work
    problem(client_for(artist).post(url + "dismiss/", {"note": "x"}, format="json"), 403)
    api = client_for(reviewer2)
    body = problem(api.post(url + "uphold/", {"note": "ok"}, format="json"), 400)
    assert fields_of(body) == {"hours"}
    body = problem(api.post(url + "uphold/", {"note": "ok", "hours": 3}, format="json"), 400)
    assert fields_of(body) == {"hours"}  # a JSON number, not a string
    body = problem(api.post(url + "uphold/", {"hours": "3"}, format="json"), 400)
    assert fields_of(body) == {"note"}
    response = api.post(url + "uphold/", {"note": "Three hours.", "hours": "3"}, format="json")
    assert response.status_code == 200, response.content
    decided = response.json()
    assert decided["status"] == "upheld" and decided["decided_by"] == reviewer2.pk
    assert decided["decision_note"] == "Three hours." and decided["outcome"] == (
        "value adjusted by +$45.00"
    )
    assert decided["decided_at"].endswith("Z")
    problem(api.post(url + "dismiss/", {"note": "again"}, format="json"), 409, "invalid_transition")
    problem(client_for(artist).post(url + "withdraw/"), 409, "invalid_transition")
    contribution = client_for(artist).get(f"/api/v1/contributions/{work.pk}/").json()
    assert (contribution["hours"], contribution["value"]) == ("3.00", "135.00")
    balance = client_for(artist).get(f"/api/v1/balances/?program={program.pk}").json()["results"]
    assert balance[0]["valued"] == balance[0]["outstanding"] == "135.00"
    entries = client_for(artist).get(f"/api/v1/ledger/entries/?program={program.pk}").json()
    kinds = [(e["kind"], [p["amount"] for p in e["postings"]]) for e in entries["results"]]
    assert kinds == [("acceptance", ["90.00", "-90.00"]), ("adjustment", ["45.00", "-45.00"])]
    statement = client_for(artist).get(f"/api/v1/statements/?program={program.pk}").json()
    assert [(line["kind"], line["amount"], line["balance"]) for line in statement["lines"]] == [
        ("acceptance", "90.00", "90.00"),
        ("adjustment", "45.00", "135.00"),
    ]
    assert client_for(admin).get(f"/api/v1/ledger/verify/?program={program.pk}").json()["ok"]


def test_the_artist_withdraws_and_nobody_else(admin, artist, program, reviewer2):
    dispute = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    url = f"/api/v1/disputes/{dispute.pk}/withdraw/"
    problem(client_for(reviewer2).post(url), 403, "permission_denied")
    response = client_for(artist).post(url)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert response.json()["decided_by"] == artist.pk


def test_the_report_counts_disputes_and_withholds_them_from_outsiders(
    admin, artist, program, reviewer2, settings
):
    settings.LEDGER_REPORT_MIN_CONTRIBUTORS = 5
    program = services.update_program(actor=admin, program=program, public=True)
    upheld = services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    services.uphold_dispute(dispute=upheld, actor=reviewer2, note="Yes.")
    services.open_dispute(
        actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
        statement="x",
    )  # fmt: skip
    url = f"/api/v1/programs/{program.pk}/report/"
    member = client_for(artist).get(url).json()
    assert (member["disputes_open"], member["disputes_upheld"], member["disputes_dismissed"]) == (
        1,
        1,
        0,
    )
    for outsider in (None, UserFactory(username="passerby")):
        body = client_for(outsider).get(url).json()
        assert body["withheld"] is True
        assert (
            body["disputes_open"] is body["disputes_upheld"] is body["disputes_dismissed"] is None
        )


def test_an_upheld_non_receipt_voids_the_payout_on_the_api(admin, artist, program):
    treasurer = UserFactory(username="treasurer2")
    services.grant_role(actor=admin, program=program, user=treasurer, role="treasurer")
    log_feedback(program, artist)
    payout = services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=700, kind="grant"
    )
    response = client_for(artist).post(
        "/api/v1/disputes/",
        open_body(payout, claim="not_received", subject_type="payout"),
        format="json",
    )
    assert response.status_code == 201, response.content
    dispute = response.json()
    url = f"/api/v1/disputes/{dispute['id']}/uphold/"
    body = problem(client_for(admin).post(url, {"note": "x"}, format="json"), 403)
    assert body["errors"][0]["code"] == "separation_of_duties"  # admin recorded it
    response = client_for(treasurer).post(url, {"note": "Never arrived."}, format="json")
    assert response.status_code == 200, response.content
    assert client_for(artist).get(f"/api/v1/payouts/{payout.pk}/").json()["status"] == "void"


def test_list_and_queue_query_budgets_do_not_grow_with_the_disputes(
    admin, artist, program, client, django_assert_max_num_queries
):
    def add_disputes(count):
        for _ in range(count):
            services.open_dispute(
                actor=artist, subject=rejected_work(program, artist, admin), claim="rejection",
                statement="x",
            )  # fmt: skip
            services.open_dispute(
                actor=artist,
                subject=services.record_payout(
                    actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
                ),
                claim="not_received",
                statement="y",
            )

    api = client_for(admin)
    client.force_login(admin)
    add_disputes(1)
    for _ in range(2):
        with django_assert_max_num_queries(6):
            assert api.get("/api/v1/disputes/").status_code == 200
        with django_assert_max_num_queries(12):
            assert client.get("/disputes/").status_code == 200
        add_disputes(5)
