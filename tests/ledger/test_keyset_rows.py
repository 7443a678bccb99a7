"""Streaming by keyset pagination (`ledger.queries.rows.keyset_rows`): the same rows, in the
same order, as one ordered query, read in bounded chunks; the exports built on it give the
same text whatever the chunk size."""

import re
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from ledger import services
from ledger.exports.csv import outstanding_csv
from ledger.exports.journal import stream_journal
from ledger.models import Entry, Posting
from ledger.queries.entries import chain_postings
from ledger.queries.rows import keyset_rows
from ledger.verify import verify_program, walk_chain
from tests.conftest import accepted_work
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ledger(program, admin, artist, artist2):
    for who in (artist, artist2, artist, artist2, artist):
        accepted_work(program, who, admin)
    for who, amount in ((artist, 1000), (artist2, 500), (artist, 250)):
        services.record_payout(
            actor=admin, artist=who, program=program, amount_minor=amount, kind="grant"
        )
    return program


def test_composite_key_gives_the_ordered_rows_in_bounded_chunks(ledger):
    postings = Posting.objects.filter(program=ledger).values_list(
        "entry__seq", "id", "amount_minor"
    )
    expected = list(postings.order_by("entry__seq", "id"))
    assert len(expected) >= 10
    with CaptureQueriesContext(connection) as queries:
        got = list(keyset_rows(postings, ("entry__seq", "id"), chunk_size=3))
    assert got == expected
    # One statement per chunk of at most 3 rows: never one read of everything.
    assert len(queries) == len(expected) // 3 + 1
    assert all(re.search(r"LIMIT 3\b", q["sql"]) for q in queries)


def test_chain_postings_read_a_bounded_range_of_entries_per_chunk(ledger):
    columns = ("entry__seq", "id", "account__code", "amount_minor")
    expected = list(
        Posting.objects.filter(program=ledger).order_by("entry__seq", "id").values_list(*columns)
    )
    entries = Entry.objects.filter(program=ledger).count()
    with CaptureQueriesContext(connection) as queries:
        got = list(chain_postings(ledger, columns, chunk_size=2))
    assert got == expected
    # Per chunk: the next 2 entry seqs, then the postings of that seq range.
    seqs, ranges = queries[0::2], queries[1::2]
    assert len(seqs) == entries // 2 + 1 and len(ranges) == (entries + 1) // 2
    assert all(re.search(r"LIMIT 2\b", q["sql"]) for q in seqs)
    assert all("BETWEEN" in q["sql"] or "<=" in q["sql"] for q in ranges)
    up_to = list(chain_postings(ledger, columns, up_to_seq=3, chunk_size=2))
    assert up_to == [row for row in expected if row[0] <= 3]


def test_ties_on_the_first_key_are_neither_lost_nor_repeated(db):
    for n in range(7):
        UserFactory(username=f"tie-{n}", display_name="Same name" if n % 2 else f"Name {n}")
    users = User.objects.filter(username__startswith="tie-")
    expected = list(users.order_by("display_name", "id"))
    for size in (1, 2, 3, 100):
        assert list(keyset_rows(users, ("display_name", "id"), chunk_size=size)) == expected


def test_exports_and_the_chain_walk_are_the_same_whatever_the_chunk(ledger):
    def journal(fmt, size):
        text = "".join(stream_journal(ledger, fmt, chunk_size=size))
        return re.sub(r"(?m)^; Exported .*$", "", text)  # the export's own time

    for fmt in ("hledger", "beancount"):
        assert journal(fmt, 1) == journal(fmt, 2) == journal(fmt, 10**6)
    assert list(walk_chain(ledger, chunk_size=1)) == list(walk_chain(ledger, chunk_size=10**6))
    assert verify_program(ledger, chunk_size=1).ok


def test_no_server_side_cursor_streams_in_the_app():
    """`.iterator()` opens a server-side cursor, which PgBouncer's transaction pooling breaks
    (and with server-side cursors disabled, it reads everything at once): stream with
    `keyset_rows`."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("ledger", "accounts", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if not any(part.startswith(".venv") for part in path.parts)  # bench's own venvs
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ".iterator(" in line and "never `.iterator()`" not in line
    ]
    assert not found


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_outstanding_export_is_one_snapshot(program, admin):
    """A member renamed while the file streams (past their place in the order, as chunks
    keyed on the name would meet them again) is listed once: the rows are one statement's."""
    for name in ("Ada", "Bea", "Cy"):
        member = UserFactory(username=name.lower(), display_name=name)
        services.enroll_artist(actor=admin, program=program, artist=member)
    lines = outstanding_csv(program)
    streamed = [next(lines), next(lines)]  # the header and Ada's row
    s = connection.settings_dict
    with psycopg.connect(
        dbname=s["NAME"], user=s["USER"] or None, host=s["HOST"] or None,
        port=s["PORT"] or None, autocommit=True,
    ) as other:  # fmt: skip
        other.execute("UPDATE accounts_user SET display_name = 'Zed' WHERE display_name = 'Ada'")
    names = [row.split(",")[0] for row in "".join(streamed + list(lines)).splitlines()[1:]]
    assert names == ["Ada", "Artist1", "Artist2", "Bea", "Cy"]
