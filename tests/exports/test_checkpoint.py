"""Statements checked against the hash chain: genuine ones pass, edited ones fail."""

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ledger import clock, queries, services
from ledger.exports.checkpoint import statement_json, verify_statement
from ledger.exports.csv import statement_csv
from ledger.models import Entry
from tests.conftest import on_postgres

START = dt.datetime.now(dt.UTC).replace(hour=12) - dt.timedelta(days=40)


def at(days):
    return clock.frozen(START + dt.timedelta(days=days))


@pytest.fixture
def history(program, admin, artist, artist2):
    """Forty days of work and payments for two artists, one of each kind of entry."""
    works = []
    for day in range(0, 30, 3):
        with at(day):
            for who in (artist, artist2):
                work = services.submit_contribution(
                    actor=who,
                    program=program,
                    kind="feedback",
                    title=f'Session on day {day} "quoted"',
                    occurred_on=clock.today(),
                    hours=Decimal("1.25"),
                )
                works.append(services.accept_contribution(contribution=work, actor=admin))
    with at(31):
        services.reverse_contribution(contribution=works[0], actor=admin, reason="dup")
        payout = services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=10000, kind="grant"
        )
    with at(32):
        services.void_payout(payout=payout, actor=admin, reason="wrong artist")
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=7000, kind="settlement"
        )
    return program


def period_statement(history, artist):
    return queries.statement(
        artist=artist,
        program=history,
        date_from=(START + dt.timedelta(days=10)).date(),
        date_to=(START + dt.timedelta(days=32)).date(),
    )


def test_genuine_statement_verifies(history, artist):
    statement = period_statement(history, artist)
    data = statement_json(statement)
    assert len(data["lines"]) >= 6 and data["opening_balance"] != "0.00"
    result = verify_statement(data)
    assert result.ok, result.problem
    assert result.head_seq == Entry.objects.get(hash=statement.head_hash).seq
    assert result.entries_checked == result.head_seq
    assert verify_statement(json.dumps(data)).ok
    whole = statement_json(queries.statement(artist=artist, program=history))
    assert verify_statement(whole).ok


def test_statement_still_verifies_after_later_entries(history, admin, artist):
    data = statement_json(period_statement(history, artist))
    with at(33):
        # posted later, but dated inside the statement's period: the ledger moved on
        services.record_payout(
            actor=admin,
            artist=artist,
            program=history,
            amount_minor=100,
            kind="grant",
            paid_on=(START + dt.timedelta(days=20)).date(),
        )
    assert statement_json(period_statement(history, artist)) != data
    assert verify_statement(data).ok


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda d: d["lines"][2].update(amount="56.26"), "line 3 amount: 56.26"),
        (lambda d: d["lines"][1].update(balance="1.00"), "line 2 balance"),
        (lambda d: d.update(closing_balance="0.01"), "closing balance"),
        (lambda d: d.update(opening_balance="-1.00"), "opening balance"),
        (lambda d: d["lines"].pop(), "missing from the statement"),
        (lambda d: d["lines"][0].update(description="Other"), "line 1: description"),
        (lambda d: d.update(currency="EUR"), "currency"),
        (lambda d: d["lines"][0].update(amount=56.25), "money must be a string"),
    ],
)
def test_edited_statement_fails(history, artist, edit, problem):
    genuine = statement_json(period_statement(history, artist))
    assert verify_statement(genuine).ok
    data = copy.deepcopy(genuine)
    edit(data)
    result = verify_statement(data)
    assert not result.ok
    assert problem in result.problem


def test_head_hash_not_in_chain_fails(history, artist):
    data = statement_json(period_statement(history, artist))
    data["head_hash"] = "f" * 64
    result = verify_statement(data)
    assert not result.ok
    assert "is not in the chain" in result.problem


def test_head_hash_of_another_entry_fails(history, artist, artist2):
    data = statement_json(period_statement(history, artist))
    # an entry of the chain, but one this statement does not end with (artist2's last)
    data["head_hash"] = queries.statement(artist=artist2, program=history).head_hash
    assert data["head_hash"] != period_statement(history, artist).head_hash
    result = verify_statement(data)
    assert not result.ok
    assert "the last entry this statement includes" in result.problem


def test_other_artist_claiming_statement_fails(history, artist, artist2):
    data = statement_json(period_statement(history, artist))
    data["artist"] = artist2.pk
    assert not verify_statement(data).ok


def test_tampered_chain_fails(history, artist):
    if on_postgres():
        # The append-only triggers refuse the UPDATE; act as a superuser editing the table
        # behind the app's back, with triggers off for this test's transaction only.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:
            pytest.skip("needs a PostgreSQL superuser to bypass the append-only triggers")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    data = statement_json(period_statement(history, artist))
    Entry.objects.filter(program=history, seq=2).update(memo="Changed behind the app's back")
    result = verify_statement(data)
    assert not result.ok
    assert "(seq 2): hash does not match" in result.problem


def test_statement_csv_verifies_and_edit_fails(history, artist):
    text = "".join(statement_csv(period_statement(history, artist)))
    assert verify_statement(text).ok
    lines = text.split("\r\n")
    cells = lines[3].split(",")
    cells[3] = "99.99"
    lines[3] = ",".join(cells)
    result = verify_statement("\r\n".join(lines))
    assert not result.ok
    assert "line 3 amount: 99.99" in result.problem


def test_verify_statement_command(history, artist, tmp_path):
    path = tmp_path / "statement.json"
    data = statement_json(period_statement(history, artist))
    path.write_text(json.dumps(data), encoding="utf-8")
    call_command("verify_statement", "--file", str(path))
    data["head_hash"] = "0" * 63 + "1"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="not in the chain"):
        call_command("verify_statement", "--file", str(path))


def test_not_a_statement(db):
    assert "not a statement" in verify_statement({"lines": []}).problem
    assert not verify_statement(json.dumps({"program": 999999, "artist": 1})).ok


def test_export_statement_command_round_trip(history, artist, tmp_path):
    path = tmp_path / "statement.json"
    call_command(
        "export_statement", "--program", str(history.pk), "--artist", str(artist.pk),
        "--from", (START + dt.timedelta(days=10)).date().isoformat(), "--output", str(path),
    )  # fmt: skip
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == statement_json(period_statement(history, artist)) | {"to": None}
    call_command("verify_statement", "--file", str(path))
    csv_path = tmp_path / "statement.csv"
    call_command(
        "export_statement", "--program", str(history.pk), "--artist", str(artist.pk),
        "--format", "csv", "--output", str(csv_path),
    )  # fmt: skip
    call_command("verify_statement", "--file", str(csv_path))
    pdf_path = tmp_path / "statement.pdf"
    call_command(
        "export_statement", "--program", str(history.pk), "--artist", str(artist.pk),
        "--format", "pdf", "--output", str(pdf_path),
    )  # fmt: skip
    assert pdf_path.read_bytes().startswith(b"%PDF")


def test_empty_statement_verifies_and_invented_line_fails(program, artist):
    data = statement_json(queries.statement(artist=artist, program=program))
    assert data["head_hash"] is None and data["lines"] == []
    assert verify_statement(data).ok
    data["lines"].append(
        {"date": "2026-01-01", "kind": "payout", "description": "x", "amount": "-1.00",
         "balance": "-1.00"}
    )  # fmt: skip
    result = verify_statement(data)
    assert not result.ok
    assert "line 1 of the statement is not in the ledger" in result.problem
