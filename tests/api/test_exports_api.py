"""Exports over the API: journal (hledger/beancount), statement PDF, CSV files, checkpoints."""

import csv
import io

import pytest

from ledger import clock, services
from ledger.exports.journal import stream_journal
from tests.api.conftest import client_for, problem
from tests.conftest import accepted_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(admin, artist, artist2, program):
    accepted_work(program, artist, admin, "2.00")
    accepted_work(program, artist2, admin, "1.00")
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement",
        reference="BATCH-1",
    )  # fmt: skip
    return program


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("fmt", ["hledger", "beancount"])
def test_journal_export_streams_the_generator_output(admin, books, fmt):
    api = client_for(admin)
    # Both copies are stamped "Exported <second>": one clock reading, or a second boundary
    # between the two (likelier on a busy machine) would fail the comparison.
    with clock.frozen(clock.now()):
        response = api.get(f"/api/v1/ledger/export/?program={books.pk}&format={fmt}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.streaming
        assert body(response).decode() == "".join(stream_journal(books, fmt))
    # a client asking for text/plain is served, not refused with 406
    again = api.get(
        f"/api/v1/ledger/export/?program={books.pk}&format={fmt}", HTTP_ACCEPT="text/plain"
    )
    assert again.status_code == 200


def test_journal_export_errors(admin, books):
    api = client_for(admin)
    errors = problem(api.get(f"/api/v1/ledger/export/?program={books.pk}"), 400)["errors"]
    assert [e["field"] for e in errors] == ["format"]
    bad = api.get(f"/api/v1/ledger/export/?program={books.pk}&format=xlsx")
    assert [e["field"] for e in problem(bad, 400)["errors"]] == ["format"]
    problem(api.get("/api/v1/ledger/export/?program=999999&format=hledger"), 404, "not_found")


def test_statement_pdf(artist, books):
    api = client_for(artist)
    for response in (
        api.get(f"/api/v1/statements/?program={books.pk}&format=pdf"),
        api.get(f"/api/v1/statements/?program={books.pk}", HTTP_ACCEPT="application/pdf"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert body(response).startswith(b"%PDF")
        assert "attachment" in response["Content-Disposition"]


def test_outstanding_and_payout_batch_csv(admin, artist, books):
    api = client_for(admin)
    response = api.get(f"/api/v1/exports/outstanding/?program={books.pk}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    owed = {row["email"]: row["outstanding"] for row in rows}
    assert owed[artist.email] == "40.00"  # 90.00 valued - 50.00 settled
    today = clock.today().isoformat()
    response = api.get(f"/api/v1/exports/payout-batch/?program={books.pk}&paid_on={today}")
    rows = list(csv.DictReader(io.StringIO(body(response).decode())))
    assert len(rows) == 1
    assert (rows[0]["email"], rows[0]["amount"], rows[0]["currency"]) == (
        artist.email, "50.00", "USD",
    )  # fmt: skip
    missing = api.get(f"/api/v1/exports/payout-batch/?program={books.pk}")
    assert [e["field"] for e in problem(missing, 400)["errors"]] == ["paid_on"]


def test_statement_checkpoint_round_trip(artist, artist2, books):
    api = client_for(artist)
    statement = api.get(f"/api/v1/statements/?program={books.pk}").json()
    checked = api.post("/api/v1/statements/verify/", statement, format="json")
    assert checked.status_code == 200, checked.content
    assert checked.json()["ok"] is True
    assert checked.json()["entries_checked"] >= 1

    statement["lines"][0]["amount"] = "900.00"
    tampered = api.post("/api/v1/statements/verify/", statement, format="json").json()
    assert tampered["ok"] is False and tampered["problem"]

    theirs = client_for(artist2).get(f"/api/v1/statements/?program={books.pk}").json()
    problem(api.post("/api/v1/statements/verify/", theirs, format="json"), 404, "not_found")
