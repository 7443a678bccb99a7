"""The PDF statement: real WeasyPrint output, read back with pdftotext."""

import shutil
import subprocess

import pytest

from ledger import queries, services
from ledger.exports.pdf import statement_context, statement_html, statement_pdf
from tests.conftest import accepted_work, make_program

PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_statement_shows_head_hash_and_closing_balance(program, admin, artist, tmp_path):
    accepted_work(program, artist, admin, hours="3.50")  # 157.50
    services.record_payout(
        actor=admin, artist=artist, program=program, amount_minor=5025, kind="grant"
    )
    statement = queries.statement(artist=artist, program=program)
    pdf = statement_pdf(statement)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    flat = "".join(text.split())
    assert statement.head_hash in flat  # the hash may wrap across lines
    assert "$107.25" in text  # closing balance
    assert "$157.50" in text and "-$50.25" in text
    assert "Program USD" in text and "Artist1" in text


def test_html_fragment_in_jpy_escapes_text(db, admin, artist):
    program = make_program(admin, currency="JPY", hourly="4000")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    work = services.submit_contribution(
        actor=artist,
        program=program,
        kind="bug_report",
        title="<script>alert(1)</script>",
        occurred_on=program.rate_cards.get().effective_from,
        severity="high",
    )
    services.accept_contribution(contribution=work, actor=admin)
    statement = queries.statement(artist=artist, program=program)
    context = statement_context(statement)
    assert context["closing"] == "¥20,000"
    html = statement_html(statement)
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert statement.head_hash in html


def test_empty_statement_has_no_hash(db, admin, artist):
    program = make_program(admin, currency="KWD")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    html = statement_html(queries.statement(artist=artist, program=program))
    assert "No entries in this period." in html
    assert "none: no entries yet" in html
    assert "KWD" in html


def test_display_uses_the_currency_digits():
    from ledger.money import display

    assert display(20000, "JPY") == "¥20,000"
    assert display(1234, "KWD").endswith("1.234")
    assert display(-5025, "USD") == "-$50.25"
    assert display(123456789, "USD", "de_DE") == "1.234.567,89\xa0$"
