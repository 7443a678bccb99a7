"""`services.preview_payout` applies `record_payout`'s own rules, reads only, and says what the
payout would leave owed."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.errors import DomainError
from ledger.models import Payout
from tests.conftest import TODAY, accepted_work
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SAVEPOINT)\b|FOR UPDATE", re.I)


def test_preview_says_what_a_payout_leaves_owed(admin, artist, program):
    accepted_work(program, artist, admin, hours="2.00")  # 9000 minor units owed
    args = {"actor": admin, "artist": artist, "program": program, "paid_on": TODAY}
    with CaptureQueriesContext(connection) as run:
        settle = services.preview_payout(amount_minor=6000, kind="settlement", **args)
        grant = services.preview_payout(amount_minor=10000, kind="grant", **args)
    assert (settle.owed_before_minor, settle.owed_after_minor) == (9000, 3000)
    assert (grant.owed_before_minor, grant.owed_after_minor) == (9000, -1000)  # paid ahead
    assert [q["sql"] for q in run.captured_queries if WRITE.search(q["sql"])] == []
    assert len(run.captured_queries) == 2  # one balance read each
    assert not Payout.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"actor": "artist"}, None),
        ({"kind": "gift"}, "kind"),
        ({"amount_minor": 0}, "amount"),
        ({"amount_minor": -5}, "amount"),
        ({"amount_minor": 10**16}, "amount"),
        ({"paid_on": TODAY + dt.timedelta(days=3)}, "paid_on"),
        ({"artist": "outsider"}, "artist"),
        ({"amount_minor": 9001}, "amount"),  # a settlement above the 9000 owed
    ],
)
def test_preview_and_record_refuse_alike(admin, artist, program, change, field):
    """One home for the rules: the same error class, message and field from both."""
    accepted_work(program, artist, admin, hours="2.00")
    args = {
        "actor": admin,
        "artist": artist,
        "program": program,
        "amount_minor": 5000,
        "kind": "settlement",
        "paid_on": TODAY,
    } | change
    if args["actor"] == "artist":
        args["actor"] = artist
    if args["artist"] == "outsider":
        args["artist"] = UserFactory(username="outsider")
    with pytest.raises(DomainError) as previewed:
        services.preview_payout(**args)
    with pytest.raises(DomainError) as recorded:
        services.record_payout(**args)
    assert type(previewed.value) is type(recorded.value)
    assert previewed.value.message == recorded.value.message
    assert previewed.value.field == recorded.value.field == field
    assert not Payout.objects.exists()
