"""Downloads from the pages: statement CSV/PDF (same template as the page), journal exports,
outstanding and payout-batch CSVs; admin-only where they cover other artists."""

import csv
import io

import pytest

from ledger import clock, services
from ledger.exports.journal import stream_journal
from tests.conftest import accepted_work

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(admin, artist, program):
    accepted_work(program, artist, admin, "2.00")
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=5000, kind="settlement"
    )
    return program


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_statement_page_shows_the_printable_statement_and_links_pdf(client_for, artist, books):
    client = client_for(artist)
    html = client.get(f"/programs/{books.pk}/statement/").content.decode()
    assert 'class="statement"' in html  # the same fragment the PDF renders
    assert "Ledger checkpoint" in html
    assert f"/programs/{books.pk}/statement.pdf" in html
    pdf = client.get(f"/programs/{books.pk}/statement.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_admin_downloads(client_for, admin, artist, books):
    client = client_for(admin)
    page = client.get(f"/programs/{books.pk}/").content.decode()
    for link in ("outstanding.csv", "journal.hledger", "journal.beancount"):
        assert f"/programs/{books.pk}/{link}" in page
    with clock.frozen(clock.now()):  # one "Exported <second>" stamp for both copies
        journal = client.get(f"/programs/{books.pk}/journal.hledger")
        assert content(journal).decode() == "".join(stream_journal(books, "hledger"))
    assert client.get(f"/programs/{books.pk}/journal.xlsx").status_code == 404
    rows = list(csv.DictReader(io.StringIO(content(client.get(
        f"/programs/{books.pk}/outstanding.csv")).decode())))  # fmt: skip
    assert [(r["email"], r["outstanding"]) for r in rows if r["email"] == artist.email] == [
        (artist.email, "40.00")
    ]
    form = client.get("/payouts/batch.csv")
    assert (
        form.status_code == 200
        and b"Paid on" in form.content
        and b"errorlist" not in (form.content)
    )
    bad = client.get(f"/payouts/batch.csv?program={books.pk}&paid_on=someday")
    assert bad.status_code == 200 and b"Enter a valid date" in bad.content
    batch = client.get(f"/payouts/batch.csv?program={books.pk}&paid_on={clock.today()}")
    rows = list(csv.DictReader(io.StringIO(content(batch).decode())))
    assert [(r["email"], r["amount"]) for r in rows] == [(artist.email, "50.00")]


def test_artists_cannot_download_program_wide_files(client_for, artist, books):
    client = client_for(artist)
    for url in (
        f"/programs/{books.pk}/journal.hledger",
        f"/programs/{books.pk}/outstanding.csv",
        f"/payouts/batch.csv?program={books.pk}&paid_on={clock.today()}",
    ):
        assert client.get(url).status_code in (403, 404), url


def test_bad_period_on_a_download_goes_back_to_the_page_with_its_error(client_for, artist, books):
    client = client_for(artist)
    for ext in ("csv", "pdf"):
        url = f"/programs/{books.pk}/statement.{ext}?date_from=2026-09-01&date_to=2026-01-01"
        response = client.get(url, follow=True)
        assert response.status_code == 200
        assert b"The end of the period is before its start." in response.content
