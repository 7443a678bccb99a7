"""The read-your-writes positions every server shares (`ledger.positions`), on the database
and on Redis: raising keeps the highest, whatever order two writes finish in."""

import threading

import pytest

from accounts.models import WritePosition
from ledger import positions


@pytest.mark.django_db
def test_the_highest_position_stays(store):
    assert positions.highest(["user:1"]) == 0
    positions.raise_to(["user:1", "session:a"], 200, 60)
    positions.raise_to(["user:1", "session:a"], 100, 60)  # a slower, earlier write ends last
    assert positions.highest(["user:1"]) == 200
    positions.raise_to(["session:a"], 300, 60)
    assert positions.highest(["user:1", "session:a"]) == 300
    assert positions.highest(["user:2"]) == 0


@pytest.mark.django_db
def test_expired_positions_are_not_read_and_are_swept(settings):
    settings.REDIS_URL = ""
    positions.raise_to(["user:1"], 200, 60)
    WritePosition.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert positions.highest(["user:1"]) == 0
    assert positions.sweep() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_raises_keep_the_highest(store):
    """Eight writers raising one key at once, each its own value: the highest stays (a read
    followed by a write would let a lower value land last)."""
    start = threading.Barrier(8)

    def raise_one(value):
        start.wait()
        try:
            for step in range(20):
                positions.raise_to(["user:7"], value * 100 + step, 60)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=raise_one, args=(value,)) for value in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert positions.highest(["user:7"]) == 819
