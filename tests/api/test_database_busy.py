"""A busy database answers 503 problem+json with Retry-After, never a 500, and writes nothing."""

import threading

import psycopg
import pytest
from django.db import connection

from ledger.models import AccountBalance, Payout
from tests.api.conftest import client_for
from tests.conftest import accepted_work


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_settlement_behind_a_held_row_lock_is_503_and_writes_nothing(admin, artist, program):
    accepted_work(program, artist, admin, "2.00")
    api = client_for(admin)
    balance = AccountBalance.objects.get(account__kind="payable", account__artist=artist)
    held, release = threading.Event(), threading.Event()
    dsn = " ".join(
        f"{k}={v}"
        for k, v in {
            "host": connection.settings_dict["HOST"],
            "port": connection.settings_dict["PORT"] or 5432,
            "user": connection.settings_dict["USER"],
            "dbname": connection.settings_dict["NAME"],
        }.items()
        if v
    )

    def hold_lock():
        with psycopg.connect(dsn) as other, other.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM ledger_accountbalance WHERE account_id = %s FOR UPDATE",
                [balance.account_id],
            )
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    try:
        assert held.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        response = api.post(
            "/api/v1/payouts/",
            {"artist": artist.pk, "program": program.pk, "amount": "10.00", "kind": "settlement"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="busy-1",
        )
    finally:
        release.set()
        thread.join()
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["Retry-After"]
    assert response.json()["code"] == "unavailable"
    assert not Payout.objects.exists()
    # the key was not stored: the same request now goes through
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '10s'")
    again = api.post(
        "/api/v1/payouts/",
        {"artist": artist.pk, "program": program.pk, "amount": "10.00", "kind": "settlement"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="busy-1",
    )
    assert again.status_code == 201, again.json()
    assert Payout.objects.count() == 1


@pytest.mark.django_db
def test_page_view_hitting_a_locked_database_gets_the_503_page(client, monkeypatch, artist):
    """Pages answer a classified database failure with a 503 page (no traceback, no 500)."""
    import sqlite3

    from django.db import OperationalError

    from ledger import queries

    def locked(*args, **kwargs):
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as cause:
            raise OperationalError("database is locked") from cause

    monkeypatch.setattr(queries, "balances", locked)
    client.force_login(artist)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"nothing was changed" in response.content
