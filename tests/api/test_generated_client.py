"""A client generated from the served schema by openapi-python-client, as a client author would
make one, runs the life of a contribution against a live server, unmodified: an admin sets up
a program, its rate card and a member; the artist logs work; the admin accepts it; the artist
reads its balance; the admin pays a settlement; the artist reads its statement.

The client is generated into a temporary directory on every run (nothing generated is kept in
the repository) from the schema the live server serves; generation needs no network.
"""

import datetime as dt
import importlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.factories import PASSWORD

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
CONFIG = (
    "package_name_override: ledger_client\nproject_name_override: ledger-client\npost_hooks: []\n"
)


def generate_client(base_url: str, into: Path):
    """Generate the client package from the served schema; return it imported."""
    with urllib.request.urlopen(f"{base_url}/api/v1/schema/?format=json") as response:  # noqa: S310 (the live test server)
        schema = json.loads(response.read())
    (into / "schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (into / "config.yaml").write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path", str(into / "schema.json"),
            "--config", str(into / "config.yaml"),
            "--meta", "none",
            "--output-path", str(into / "ledger_client"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # A schema the generator had to skip parts of gives warnings: none may be left.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    return importlib.import_module("ledger_client")


@pytest.fixture
def clean_import(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n == "ledger_client" or n.startswith("ledger_client.")]:
        del sys.modules[name]


@pytest.mark.django_db(transaction=True)
def test_generated_client_runs_the_life_of_a_contribution(live_server, clean_import, admin):
    generate_client(live_server.url, clean_import)
    from ledger_client import AuthenticatedClient, Client
    from ledger_client.api.artists import artists_create
    from ledger_client.api.auth import auth_tokens_create
    from ledger_client.api.balances import balances_list
    from ledger_client.api.contributions import contributions_accept_create, contributions_create
    from ledger_client.api.payouts import payouts_create
    from ledger_client.api.programs import (
        programs_create,
        programs_members_create,
        programs_rate_cards_create,
    )
    from ledger_client.api.statements import statements_retrieve
    from ledger_client.models import (
        AcceptRequest,
        ArtistCreateRequest,
        BountiesInputRequest,
        ContributionCreateRequest,
        ContributionKindEnum,
        ContributionStatusEnum,
        CurrencyEnum,
        MemberCreateRequest,
        PayoutCreateRequest,
        PayoutKindEnum,
        ProgramCreateRequest,
        RateCardCreateRequest,
        TokenCreateRequest,
    )

    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)

    def signed_in(username: str, password: str):
        created = auth_tokens_create.sync(
            client=anonymous,
            body=TokenCreateRequest(username=username, password=password, name="client"),
        )
        assert created.token.startswith("lgr_"), created
        return AuthenticatedClient(
            base_url=live_server.url, token=created.token, raise_on_unexpected_status=True
        )

    def ok(result, cls):
        assert isinstance(result, cls), result  # a Problem otherwise
        return result

    from ledger_client.models import (
        Artist,
        Contribution,
        Member,
        PaginatedBalanceList,
        Payout,
        Program,
        RateCard,
        Statement,
    )

    staff = signed_in(admin.username, PASSWORD)
    today = dt.datetime.now(dt.UTC).date()
    program = ok(
        programs_create.sync(
            client=staff,
            body=ProgramCreateRequest(name="Nimbus beta", currency=CurrencyEnum.EUR),
        ),
        Program,
    )
    card = ok(
        programs_rate_cards_create.sync(
            program_id=program.id,
            client=staff,
            body=RateCardCreateRequest(
                effective_from=today - dt.timedelta(days=30),
                hourly_rate="40.00",
                bug_bounties=BountiesInputRequest(
                    low="10", medium="50", high="150.00", critical="400"
                ),
            ),
        ),
        RateCard,
    )
    assert card.hourly_rate == "40.00" and card.bug_bounties.high == "150.00"
    ada = ok(
        artists_create.sync(
            client=staff,
            body=ArtistCreateRequest(
                username="ada", email="ada@example.org", password="violet-harbour-88"
            ),
        ),
        Artist,
    )
    ok(
        programs_members_create.sync(
            program_id=program.id, client=staff, body=MemberCreateRequest(artist=ada.id)
        ),
        Member,
    )

    artist = signed_in("ada", "violet-harbour-88")
    work = ok(
        contributions_create.sync(
            client=artist,
            body=ContributionCreateRequest(
                program=program.id,
                kind=ContributionKindEnum.FEEDBACK,
                title="Motion blur study",
                occurred_on=today,
                hours="2.5",
            ),
            idempotency_key="ada-work-1",
        ),
        Contribution,
    )
    assert work.status == ContributionStatusEnum.SUBMITTED and work.value is None

    accepted = ok(
        contributions_accept_create.sync(
            id=work.id, client=staff, body=AcceptRequest(note="Thorough, thanks.")
        ),
        Contribution,
    )
    assert accepted.status == ContributionStatusEnum.ACCEPTED
    assert (accepted.hours, accepted.value, accepted.currency) == ("2.50", "100.00", "EUR")

    balances = ok(balances_list.sync(client=artist, program=program.id), PaginatedBalanceList)
    (balance,) = balances.results
    assert (balance.valued, balance.paid, balance.outstanding) == ("100.00", "0.00", "100.00")

    paid = ok(
        payouts_create.sync(
            client=staff,
            body=PayoutCreateRequest(
                artist=ada.id,
                program=program.id,
                amount="60.5",
                kind=PayoutKindEnum.SETTLEMENT,
                reference="BATCH-1",
            ),
            idempotency_key="pay-ada-1",
        ),
        Payout,
    )
    assert (paid.amount, paid.kind) == ("60.50", PayoutKindEnum.SETTLEMENT)

    statement = ok(statements_retrieve.sync(client=artist, program=program.id), Statement)
    assert (statement.artist, statement.program, statement.currency) == (ada.id, program.id, "EUR")
    assert [(line.kind, line.amount, line.balance) for line in statement.lines] == [
        ("acceptance", "100.00", "100.00"),
        ("payout", "-60.50", "39.50"),
    ]
    assert statement.closing_balance == "39.50" and len(statement.head_hash) == 64
