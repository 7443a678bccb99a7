"""CSV exports: statement, payout batch, outstanding liabilities."""

import csv
import datetime as dt
import io

import pytest

from ledger import queries, services
from ledger.exports.csv import (
    neutralize,
    outstanding_csv,
    payout_batch,
    payout_batch_csv,
    statement_csv,
)
from ledger.models import Payout
from tests.conftest import TODAY, accepted_work, make_program
from tests.factories import UserFactory

YESTERDAY = TODAY - dt.timedelta(days=1)


def rows(chunks):
    chunks = list(chunks)
    assert all(isinstance(chunk, str) for chunk in chunks)
    return list(csv.reader(io.StringIO("".join(chunks))))


def pay(program, artist, admin, amount, *, kind="grant", day=TODAY, reference=""):
    return services.record_payout(
        actor=admin,
        artist=artist,
        program=program,
        amount_minor=amount,
        kind=kind,
        paid_on=day,
        reference=reference,
    )


@pytest.fixture
def sneaky(db, program, admin):
    """An artist whose display name is a spreadsheet formula."""
    user = UserFactory(username="sneaky", display_name='=HYPERLINK("http://x.test","pay")')
    services.enroll_artist(actor=admin, program=program, artist=user)
    return user


def test_payout_batch_one_row_per_artist(program, admin, artist, artist2, sneaky):
    accepted_work(program, artist, admin, hours="4.00")  # 180.00 owed
    pay(program, artist, admin, 5000, reference="BATCH-7a")
    pay(program, artist, admin, 2550, kind="settlement", reference="BATCH-7b")
    pay(program, artist2, admin, 1234)
    pay(program, sneaky, admin, 99)
    pay(program, artist2, admin, 777, day=YESTERDAY)  # another batch
    voided = pay(program, artist2, admin, 100)
    services.void_payout(payout=voided, actor=admin, reason="typo")

    table = rows(payout_batch_csv(payout_batch(program, paid_on=TODAY)))
    assert table[0] == ["name", "email", "amount", "currency", "reference"]
    body = {row[1]: row for row in table[1:]}
    assert len(table) == 4
    assert body["artist1@example.org"] == [
        "Artist1",
        "artist1@example.org",
        "75.50",
        "USD",
        "BATCH-7a; BATCH-7b",
    ]
    assert body["artist2@example.org"][2] == "12.34"  # yesterday's and the void left out
    assert body["sneaky@example.org"][0] == '\'=HYPERLINK("http://x.test","pay")'
    assert body["sneaky@example.org"][2] == "0.99"


def test_payout_batch_by_ids(program, admin, artist, artist2):
    first = pay(program, artist, admin, 1000)
    pay(program, artist2, admin, 2000)
    table = rows(payout_batch_csv(payout_batch(program, payout_ids=[first.pk])))
    assert [row[2] for row in table[1:]] == ["10.00"]
    assert table[1][4] == f"payout {first.pk}"
    with pytest.raises(ValueError):
        payout_batch(program)


def test_outstanding_per_program_in_kwd(db, admin, artist, sneaky):
    program = make_program(admin, currency="KWD", hourly="12345")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    services.enroll_artist(actor=admin, program=program, artist=sneaky)
    accepted_work(program, artist, admin, hours="1.50")  # 18.5175 → 18.518 (half even)
    pay(program, artist, admin, 5000)
    pay(program, sneaky, admin, 1)  # a grant with no work: paid ahead
    table = rows(outstanding_csv(program))
    assert table[0] == ["artist", "email", "valued", "paid", "outstanding", "currency"]
    by_email = {row[1]: row for row in table[1:]}
    assert by_email["artist1@example.org"][2:] == ["18.518", "5.000", "13.518", "KWD"]
    sneaky_row = by_email["sneaky@example.org"]
    assert sneaky_row[0].startswith("'=")
    assert sneaky_row[2:] == ["0.000", "0.001", "-0.001", "KWD"]  # amounts never neutralised


def test_statement_csv_with_formula_title(program, admin, artist):
    work = services.submit_contribution(
        actor=artist,
        program=program,
        kind="bug_report",
        title="@SUM(A1:A9)",
        occurred_on=TODAY,
        severity="low",
    )
    services.accept_contribution(contribution=work, actor=admin)
    pay(program, artist, admin, 400, kind="settlement")
    statement = queries.statement(artist=artist, program=program)
    table = rows(statement_csv(statement))
    assert table[1][0] == TODAY.isoformat()
    assert table[1][2] == "Accepted bug report: @SUM(A1:A9)"  # not at the start: untouched
    assert table[1][3:6] == ["10.00", "10.00", "USD"]
    assert table[2][3:5] == ["-4.00", "6.00"]
    assert table[0][-1] == "receipt"
    assert (table[1][-1], table[2][-1]) == ("", "unconfirmed")  # work; a payment not confirmed
    services.confirm_payout(payout=Payout.objects.get(), actor=artist)
    confirmed = rows(statement_csv(queries.statement(artist=artist, program=program)))
    assert confirmed[2][-1] == "confirmed"


def test_neutralize():
    for text in ["=1+1", "+1", "-1", "@x", "\tx"]:
        assert neutralize(text) == "'" + text
    assert neutralize("Ada") == "Ada"
    assert neutralize(None) == ""


def test_export_csv_command(program, admin, artist, artist2, tmp_path):
    from django.core.management import call_command

    first = pay(program, artist, admin, 1000, reference="R-1")
    pay(program, artist2, admin, 2000, day=YESTERDAY)
    target = tmp_path / "batch.csv"
    call_command(
        "export_csv", "--program", str(program.pk), "--paid-on", TODAY.isoformat(),
        "--output", str(target),
    )  # fmt: skip
    assert rows([target.read_text(encoding="utf-8")])[1:] == [
        ["Artist1", "artist1@example.org", "10.00", "USD", "R-1"]
    ]
    call_command(
        "export_csv", "--program", str(program.pk), "--payout-ids", f"{first.pk}",
        "--output", str(target),
    )  # fmt: skip
    assert len(rows([target.read_text(encoding="utf-8")])) == 2
    call_command("export_csv", "--program", str(program.pk), "--outstanding", "--output", target)
    table = rows([target.read_text(encoding="utf-8")])
    assert {row[1]: row[4] for row in table[1:]} == {
        "artist1@example.org": "-10.00",
        "artist2@example.org": "-20.00",
    }
