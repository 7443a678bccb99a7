"""The sliding-window count behind every rate limit (`ledger.ratelimit.hit`), on the
database and on Redis: the limit holds, a client told to wait that long gets through, and
a minute's end is no fresh allowance."""

import pytest

from accounts.models import RateUse
from ledger import ratelimit

WINDOW = 60  # seconds
START = 1_800_000_000.0  # a window boundary: 30,000,000 × 60 s


@pytest.fixture
def at(monkeypatch):
    now = [START]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])

    def move_to(seconds):
        now[0] = START + seconds

    return move_to


def uses(count, limit=3):
    return [ratelimit.hit("probe", "203.0.113.9", limit, WINDOW) for _ in range(count)]


@pytest.mark.django_db
def test_the_limit_holds_and_the_wait_is_exact(store, at):
    at(10)
    results = uses(4)
    assert [allowed for allowed, _ in results] == [True, True, True, False]
    wait = results[-1][1]
    assert wait == 60  # until the oldest counted use has left the window
    at(10 + wait - 2)
    assert uses(1) == [(False, 2.0)]
    at(10 + wait)
    assert uses(1)[0][0] is True


@pytest.mark.django_db
def test_the_next_minute_is_no_fresh_allowance(store, at):
    at(59)
    assert all(allowed for allowed, _ in uses(3))
    at(61)  # a fixed window would allow three more here
    assert [allowed for allowed, _ in uses(3)] == [False, False, False]
    at(118.9)
    assert [allowed for allowed, _ in uses(1)] == [False]
    at(119)  # a minute after the three
    assert [allowed for allowed, _ in uses(4)] == [True, True, True, False]


@pytest.mark.django_db
def test_refused_uses_are_not_counted(store, at):
    at(0.5)
    uses(3)
    for second in range(1, 60):  # hammering while refused does not extend the wait
        at(second)
        assert not uses(1)[0][0]
    at(60.5)  # had the refusals counted, they would fill the window still
    assert [allowed for allowed, _ in uses(4)] == [True, True, True, False]


@pytest.mark.django_db
def test_the_database_keeps_hashed_clients_and_sweeps_old_uses(at, settings):
    settings.REDIS_URL = ""
    at(0)
    uses(2)
    keys = set(RateUse.objects.values_list("key", flat=True))
    assert RateUse.objects.count() == 2 and len(keys) == 1
    assert "203.0.113.9" not in keys.pop()
    RateUse.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert ratelimit.sweep() == 2
    assert not RateUse.objects.exists()
