"""The write path's plain-SQL statements give exactly what the ORM would have.

`post_entry` (with the membership total), `entry_accounts`, `audit.record`, `card_for`, the
review lock, the acceptance UPDATE and the payout INSERT bypass the ORM's compiler for speed;
these tests pin them to the models, on SQLite and PostgreSQL, so a model change cannot
silently drift from the SQL.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.hashing import entry_hash
from ledger.models import (
    Account,
    AccountBalance,
    AuditEvent,
    Contribution,
    Entry,
    LedgerHead,
    Membership,
    Payout,
    Posting,
    RateCard,
)
from ledger.models.programs import CARD_COLUMNS
from ledger.services import audit
from ledger.services.contributions import lock_for_review
from ledger.services.journal import Line, Total, entry_accounts, post_entry
from ledger.services.valuation import card_for
from ledger.verify import verify_program
from tests.conftest import CARD_FROM, TODAY, accepted_work, log_bug, log_feedback

pytestmark = pytest.mark.django_db


def test_post_entry_returns_the_stored_row_and_moves_balances(admin, artist, program):
    accounts = entry_accounts(program, artist)
    before = {b.account_id: (b.balance_minor, b.version) for b in AccountBalance.objects.all()}
    contribution = log_feedback(program, artist)
    entry = post_entry(
        program=program,
        kind="acceptance",
        lines=[Line(accounts["labor"], 12_345), Line(accounts["payable"], -12_345)],
        memo="ünïcode memo",
        effective_date=TODAY,
        actor=admin,
        contribution=contribution,
    )
    stored = Entry.objects.get(pk=entry.pk)
    for field in Entry._meta.concrete_fields:
        assert getattr(entry, field.attname) == getattr(stored, field.attname), field.name
    assert stored.posted_at.tzinfo is not None
    assert stored.seq == 1
    postings = list(stored.postings.order_by("id").values_list("account_id", "amount_minor"))
    assert postings == [(accounts["labor"].pk, 12_345), (accounts["payable"].pk, -12_345)]
    assert set(stored.postings.values_list("program_id", "currency")) == {(program.pk, "USD")}
    legs = [(p.account.code, p.amount_minor, p.currency) for p in stored.postings.all()]
    assert entry_hash(stored, legs) == stored.hash
    head = LedgerHead.objects.get(program=program)
    assert (head.seq, head.hash) == (1, stored.hash)
    for account, delta in ((accounts["labor"], 12_345), (accounts["payable"], -12_345)):
        balance = AccountBalance.objects.get(account=account)
        assert balance.balance_minor == before[account.pk][0] + delta
        assert balance.version == before[account.pk][1] + 1
    # Chain and balances verify; only the membership totals and the contribution's state (the
    # services' job) lag behind.
    problems = verify_program(program).problems
    assert problems and all(p.startswith(("membership ", "contribution ")) for p in problems)


def test_post_entry_check_sees_locked_balances_and_refusal_writes_nothing(admin, artist, program):
    accepted_work(program, artist, admin)  # owes 90.00
    accounts = entry_accounts(program, artist)
    seen = {}

    def refuse(balances):
        seen.update(balances)
        raise RuntimeError("refused")

    entries = Entry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():  # as the services call it
        post_entry(
            program=program,
            kind="payout",
            lines=[Line(accounts["payable"], 1), Line(accounts["cash"], -1)],
            memo="x",
            effective_date=TODAY,
            actor=admin,
            payout=None,
            check=refuse,
        )
    assert seen == {accounts["payable"].pk: -9000, accounts["cash"].pk: 0}
    assert Entry.objects.count() == entries


def test_post_entry_needs_a_head(admin, artist, program):
    accounts = entry_accounts(program, artist)
    LedgerHead.objects.filter(program=program).delete()
    with pytest.raises(LedgerHead.DoesNotExist):
        post_entry(
            program=program,
            kind="acceptance",
            lines=[Line(accounts["labor"], 1), Line(accounts["payable"], -1)],
            memo="x",
            effective_date=TODAY,
            actor=admin,
            contribution=log_feedback(program, artist),
        )


def test_entry_accounts_match_the_orm(program, artist, artist2):
    accounts = entry_accounts(program, artist)
    assert set(accounts) == {"labor", "cash", "payable"}
    for kind, account in accounts.items():
        stored = Account.objects.get(pk=account.pk)
        for field in Account._meta.concrete_fields:
            assert getattr(account, field.attname) == getattr(stored, field.attname)
        assert stored.kind == kind
    assert accounts["payable"].artist_id == artist.pk
    assert entry_accounts(program, artist2.pk)["payable"].artist_id == artist2.pk


def test_post_entry_moves_one_total_of_one_membership(admin, artist, artist2, program):
    accounts = entry_accounts(program, artist)

    def accept_by_hand(amount, column="valued_minor"):
        return post_entry(
            program=program,
            kind="acceptance",
            lines=[Line(accounts["labor"], amount), Line(accounts["payable"], -amount)],
            memo="by hand",
            effective_date=TODAY,
            actor=admin,
            contribution=log_feedback(program, artist),
            total=Total(artist.pk, column, amount),
        )

    accept_by_hand(7)
    accept_by_hand(5)
    mine = Membership.objects.get(program=program, artist=artist)
    theirs = Membership.objects.get(program=program, artist=artist2)
    assert (mine.valued_minor, mine.grants_minor, mine.settlements_minor) == (12, 0, 0)
    assert (theirs.valued_minor, theirs.grants_minor, theirs.settlements_minor) == (0, 0, 0)
    entries = Entry.objects.count()
    with pytest.raises(ValueError):  # only the three running totals, never another column
        accept_by_hand(1, column="id")
    assert Entry.objects.count() == entries


def test_audit_record_stores_what_the_json_field_would(admin, artist, program):
    contribution = log_feedback(program, artist)
    data = {"hours": Decimal("2.50"), "day": dt.date(2026, 1, 2), "note": "ü", "n": 3}
    audit.record(actor=admin, action="test.action", obj=contribution, program=program, **data)
    event = AuditEvent.objects.filter(action="test.action").get()
    assert event.data == {"hours": "2.50", "day": "2026-01-02", "note": "ü", "n": 3}
    assert (event.actor_id, event.program_id) == (admin.pk, program.pk)
    assert (event.object_type, event.object_id) == ("contribution", str(contribution.pk))
    assert event.at.tzinfo is not None
    assert abs(event.at - contribution.submitted_at) < dt.timedelta(minutes=5)
    audit.record(actor=None, action="test.anonymous", obj=contribution)
    anonymous = AuditEvent.objects.get(action="test.anonymous")
    assert (anonymous.actor_id, anonymous.program_id, anonymous.data) == (None, None, {})


def test_card_in_effect_is_the_latest_not_after_the_day_and_loads_the_rest_on_use(
    admin, artist, program
):
    later = services.add_rate_card(
        actor=admin,
        program=program,
        effective_from=TODAY - dt.timedelta(days=10),
        hourly_rate_minor=5000,
        bounties={"low": 1, "medium": 2, "high": 3, "critical": 4},
    )
    old = log_feedback(program, artist, day=TODAY - dt.timedelta(days=11))
    new = log_bug(program, artist, day=TODAY - dt.timedelta(days=10))
    assert set(CARD_COLUMNS) <= {f.attname for f in RateCard._meta.concrete_fields}
    for contribution in (old, new):
        card = card_for(contribution)
        # The rule by hand: of the cards from on or before the day, the latest.
        expected = max(
            (
                c
                for c in RateCard.objects.filter(program=program)
                if c.effective_from <= contribution.occurred_on
            ),
            key=lambda c: c.effective_from,
        )
        for field in RateCard._meta.concrete_fields:
            assert getattr(card, field.attname) == getattr(expected, field.attname), field.name
    assert card_for(new).pk == later.pk and card_for(old).effective_from == CARD_FROM
    assert card_for(new).created_at.tzinfo is not None  # deferred, loaded and converted
    too_early = Contribution(program=program, occurred_on=CARD_FROM - dt.timedelta(days=1))
    assert card_for(too_early) is None


def test_locked_rereads_the_row_and_keeps_the_loaded_program(admin, artist, program):
    contribution = log_feedback(program, artist, hours="1.25")
    Contribution.objects.filter(pk=contribution.pk).update(title="changed meanwhile")
    with CaptureQueriesContext(connection) as queries:
        locked = lock_for_review(contribution)
        assert locked.program is contribution.program  # no second query for the program
        # The artist comes with the work, with what its notification reads.
        assert (locked.artist.pk, locked.artist.email) == (artist.pk, artist.email)
        assert locked.artist.email_notifications is True
        assert str(locked.artist) == str(artist)
    assert len(queries.captured_queries) == 1
    if connection.features.has_select_for_update:
        # The work's row only: locking the artist's would block its own requests.
        assert queries.captured_queries[0]["sql"].endswith("FOR UPDATE OF c")
    assert locked.title == "changed meanwhile"
    assert locked.hours == Decimal("1.25") and isinstance(locked.hours, Decimal)
    assert locked.submitted_at.tzinfo is not None
    bare = lock_for_review(Contribution(pk=contribution.pk))
    assert bare.program == program  # read on use when the caller had none
    with pytest.raises(Contribution.DoesNotExist):
        lock_for_review(Contribution(pk=contribution.pk + 10_000))


def test_write_paths_stay_within_their_statement_budget(admin, artist, program):
    """Statements per call, BEGIN/COMMIT aside: what keeps posting close to raw SQL."""
    accepted_work(program, artist, admin)
    contribution = log_feedback(program, artist)
    with CaptureQueriesContext(connection) as accept:
        services.accept_contribution(contribution=contribution, actor=admin)
    with CaptureQueriesContext(connection) as payout:
        services.record_payout(
            actor=admin, artist=artist, program=program, amount_minor=100, kind="settlement"
        )

    def statements(captured):
        return [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].split()[0].upper() not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
        ]

    # PostgreSQL writes entry, postings, balances, head and the membership total in one
    # statement; SQLite in five.
    writes = 1 if connection.vendor == "postgresql" else 5
    # lock (with the artist, for its notification), card, save, accounts, head, balances,
    # the writes, audit, the program's webhook subscriptions (one SELECT: none here, so no
    # delivery row), the artist's notification and its email in the outbox (one INSERT
    # each; the email is delivered by the worker after commit)
    assert len(statements(accept)) == 10 + writes, statements(accept)
    # payout, accounts, head, balances, the writes, audit, the webhook subscriptions, the
    # notification, its email
    assert len(statements(payout)) == 8 + writes, statements(payout)
    assert Posting.objects.filter(entry__payout__isnull=False).count() == 2


def test_post_entry_with_more_lines_and_one_account_twice(admin, artist, program):
    """Any number of lines: one VALUES row each, one balance update per account."""
    accounts = entry_accounts(program, artist)
    entry = post_entry(
        program=program,
        kind="acceptance",
        lines=[
            Line(accounts["labor"], 300),
            Line(accounts["payable"], -100),
            Line(accounts["payable"], -200),
        ],
        memo="split",
        effective_date=TODAY,
        actor=admin,
        contribution=log_feedback(program, artist),
    )
    amounts = list(entry.postings.order_by("id").values_list("account_id", "amount_minor"))
    assert amounts == [
        (accounts["labor"].pk, 300),
        (accounts["payable"].pk, -100),
        (accounts["payable"].pk, -200),
    ]
    payable = AccountBalance.objects.get(account=accounts["payable"])
    assert (payable.balance_minor, payable.version) == (-300, 1)
    legs = [(p.account.code, p.amount_minor, p.currency) for p in entry.postings.all()]
    assert entry_hash(entry, legs) == entry.hash


def test_partial_rows_name_their_columns_in_model_order():
    """`Model.from_db` maps a partial row by the model's field order, not by the names given."""
    from accounts.models import User
    from ledger.api.auth import USER_COLUMNS

    for model, columns in ((RateCard, CARD_COLUMNS), (User, USER_COLUMNS)):
        order = [f.attname for f in model._meta.concrete_fields]
        assert columns == [name for name in order if name in columns], model


def test_acceptance_stores_every_field_the_service_sets(admin, artist, program):
    """`_save_acceptance` writes what the returned instance says, field for field."""
    contribution = log_feedback(program, artist, hours="2.00")
    accepted = services.accept_contribution(
        contribution=contribution, actor=admin, note="corrected", hours=Decimal("1.75")
    )
    stored = Contribution.objects.get(pk=contribution.pk)
    for field in Contribution._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(accepted, field.attname), field.name
    assert (stored.status, stored.hours, stored.value_minor) == ("accepted", Decimal("1.75"), 7875)
    assert (stored.reviewed_by_id, stored.review_note) == (admin.pk, "corrected")
    assert stored.rate_card_id is not None and stored.accepted_on is not None
    assert stored.reviewed_at.tzinfo is not None


def test_payout_stores_every_field_of_the_returned_instance(admin, artist, program):
    """`_insert_payout` writes the model's defaults and the caller's values, field for field."""
    payout = services.record_payout(
        actor=admin,
        artist=artist,
        program=program,
        amount_minor=1234,
        kind="grant",
        method="wire",
        reference="R-1",
        note="ü",
    )
    stored = Payout.objects.get(pk=payout.pk)
    for field in Payout._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(payout, field.attname), field.name
    assert (stored.status, stored.voided_at, stored.void_reason) == ("paid", None, "")
    assert stored.created_at.tzinfo is not None and stored.paid_on == TODAY
    assert payout.entries.count() == 1 and not payout._state.adding
