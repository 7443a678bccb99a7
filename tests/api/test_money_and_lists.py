"""Money strings at the API's edge, pagination, and query budgets on every list endpoint."""

import pytest

from ledger import services
from tests.api.conftest import fields_of, problem
from tests.conftest import accepted_work, log_bug, log_feedback, make_program

pytestmark = pytest.mark.django_db


def payout(api, artist, program, amount, kind="grant"):
    return api.post(
        "/api/v1/payouts/",
        {"artist": artist.pk, "program": program.pk, "amount": amount, "kind": kind},
        format="json",
    )


@pytest.mark.parametrize(
    "amount",
    [
        12.5,  # a JSON number
        12,
        "12.505",  # too many digits for USD
        "0",
        "0.00",
        "-5",
        "NaN",
        "Infinity",
        "1e3",
        "1E3",
        " 12",
        "12.",
        ".5",
        "",
        "1,000",
        "0x10",
        "10000000000000.01",  # above 10^15 minor units
        None,
        True,
        ["1"],
    ],
)
def test_bad_amounts_are_400_naming_the_field(admin_api, artist, program, amount):
    body = problem(payout(admin_api, artist, program, amount), 400, "validation_error")
    assert fields_of(body) == {"amount"}
    assert program.payouts.count() == 0


@pytest.mark.parametrize(
    ("currency", "amount", "out"),
    [
        ("USD", "325", "325.00"),
        ("USD", "325.5", "325.50"),
        ("USD", "0.01", "0.01"),
        ("USD", "10000000000000.00", "10000000000000.00"),  # exactly 10^15 minor units
        ("JPY", "500", "500"),
        ("KWD", "1.234", "1.234"),
    ],
)
def test_good_amounts_keep_exact_digits(admin_api, admin, artist, currency, amount, out):
    program = make_program(admin, currency=currency)
    services.enroll_artist(actor=admin, program=program, artist=artist)
    response = payout(admin_api, artist, program, amount)
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == out


def test_jpy_refuses_decimals(admin_api, admin, artist):
    program = make_program(admin, currency="JPY")
    services.enroll_artist(actor=admin, program=program, artist=artist)
    assert fields_of(problem(payout(admin_api, artist, program, "500.5"), 400)) == {"amount"}


def test_rate_card_amounts_may_be_zero_not_negative(admin_api, program):
    url = f"/api/v1/programs/{program.pk}/rate-cards/"
    zero = {"low": "0", "medium": "0", "high": "0", "critical": "0"}
    ok = admin_api.post(
        url,
        {"effective_from": "2030-01-01", "hourly_rate": "0", "bug_bounties": zero},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["hourly_rate"] == "0.00"
    bad = admin_api.post(
        url,
        {
            "effective_from": "2030-02-01",
            "hourly_rate": "-1",
            "bug_bounties": {**zero, "medium": 5},
        },
        format="json",
    )
    assert fields_of(problem(bad, 400)) == {"hourly_rate", "bug_bounties.medium"}
    missing = admin_api.post(
        url,
        {"effective_from": "2030-03-01", "hourly_rate": "1", "bug_bounties": {"low": "1"}},
        format="json",
    )
    assert fields_of(problem(missing, 400)) == {
        "bug_bounties.medium",
        "bug_bounties.high",
        "bug_bounties.critical",
    }


def test_hours_out_with_two_decimals_and_review_corrections(admin_api, artist, program):
    work = log_feedback(program, artist, hours="3")
    response = admin_api.post(
        f"/api/v1/contributions/{work.pk}/accept/", {"hours": "1.5"}, format="json"
    )
    assert response.json()["hours"] == "1.50"
    assert response.json()["value"] == "67.50"  # 1.5 h × 45.00
    bug = log_bug(program, artist, severity="low")
    response = admin_api.post(
        f"/api/v1/contributions/{bug.pk}/accept/", {"hours": "1"}, format="json"
    )
    assert fields_of(problem(response, 400)) == {"hours"}


def test_pagination_shape_and_clamp(admin_api, admin, artist, program):
    for _ in range(3):
        log_feedback(program, artist)
    page = admin_api.get("/api/v1/contributions/?page_size=2").json()
    assert set(page) >= {"results", "next", "previous"}
    assert len(page["results"]) == 2 and page["next"].startswith("http")
    rest = admin_api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["previous"]
    ids = {c["id"] for c in page["results"]} | {c["id"] for c in rest["results"]}
    assert len(ids) == 3
    # Larger than the maximum: clamped to 100, not refused.
    for _ in range(100):
        log_bug(program, artist)
    page = admin_api.get("/api/v1/contributions/?page_size=1000").json()
    assert len(page["results"]) == 100


def test_entries_cursor_oldest_first(admin_api, admin, artist, program):
    for _ in range(3):
        accepted_work(program, artist, admin)
    first = admin_api.get("/api/v1/ledger/entries/?page_size=2").json()
    second = admin_api.get(first["next"]).json()
    seqs = [e["seq"] for e in first["results"] + second["results"]]
    assert seqs == [1, 2, 3]


LISTS = [
    "/api/v1/auth/tokens/",
    "/api/v1/artists/",
    "/api/v1/programs/",
    "/api/v1/programs/{program}/rate-cards/",
    "/api/v1/programs/{program}/members/",
    "/api/v1/contributions/",
    "/api/v1/payouts/",
    "/api/v1/balances/",
    "/api/v1/ledger/entries/",
]


def _grow(admin, program, n):
    """Add n of everything each list shows."""
    import datetime as dt

    from ledger.api.auth import issue_token
    from tests.factories import UserFactory

    for _ in range(n):
        artist = UserFactory()
        services.enroll_artist(actor=admin, program=program, artist=artist)
        accepted_work(program, artist, admin)
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=100, kind="grant"
        )
        services.add_rate_card(
            actor=admin,
            program=program,
            effective_from=dt.date(2001, 1, 1) + dt.timedelta(days=program.rate_cards.count()),
            hourly_rate_minor=1,
            bounties={"low": 0, "medium": 0, "high": 0, "critical": 0},
        )
        log_bug(program, artist)
        make_program(admin, currency="EUR")
        issue_token(user=admin)


@pytest.mark.parametrize("url", LISTS)
def test_list_query_budget_does_not_grow(
    url, admin_api, admin, program, django_assert_max_num_queries
):
    url = url.format(program=program.pk)
    _grow(admin, program, 2)
    with django_assert_max_num_queries(8):
        small = admin_api.get(url + "?page_size=100")
    assert small.status_code == 200
    _grow(admin, program, 8)
    with django_assert_max_num_queries(8):
        big = admin_api.get(url + "?page_size=100")
    assert big.status_code == 200
    assert len(big.json()["results"]) > len(small.json()["results"])
