"""Balances, statements and the ledger itself: entries and their verification."""

from django.db import connection
from rest_framework import serializers

from ledger import queries
from ledger.models import (
    Acknowledgement,
    Entry,
    Membership,
    Posting,
    Totals,
)

from ..fields import (
    IdField,
    LedgerDateField,
    MoneyOutput,
    TextField,
)
from .common import QuerySerializer, RowSerializer


class BalanceSerializer(RowSerializer):
    currency = serializers.CharField(source="program.currency", read_only=True)
    valued = MoneyOutput(minor="valued_minor")
    paid = MoneyOutput(minor="paid_minor")
    grants = MoneyOutput(minor="grants_minor")
    settlements = MoneyOutput(minor="settlements_minor")
    outstanding = MoneyOutput(minor="outstanding_minor")
    pending_value = MoneyOutput(minor="pending_minor")
    overdue = MoneyOutput(
        minor="overdue_minor",
        help_text="The part of `outstanding` whose work was accepted more than the program's "
        "`pay_within_days` ago, payments matched to work oldest first.",
    )
    oldest_unpaid_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The acceptance date of the oldest work not fully paid; null: none.",
    )

    class Meta:
        model = Membership
        fields = [
            "artist",
            "program",
            "currency",
            "valued",
            "paid",
            "grants",
            "settlements",
            "outstanding",
            "pending_value",
            "overdue",
            "oldest_unpaid_on",
        ]
        read_only_fields = fields

    @classmethod
    def rows(cls, rows):
        """Already rows: `queries.balance_rows` (plain SQL)."""
        return rows

    @classmethod
    def load(cls, rows):
        """Paid and outstanding from the row's totals (`Totals`, their one definition);
        overdue and the oldest unpaid work of the whole page in one query
        (`queries.pay_deadlines`)."""
        deadlines = queries.pay_deadlines(
            (row["program"], row["artist"], row["pay_within_days"]) for row in rows
        )
        for row in rows:
            totals = Totals(row["valued_minor"], row["grants_minor"], row["settlements_minor"])
            row["paid_minor"], row["outstanding_minor"] = totals.paid, totals.outstanding
            deadline = deadlines[(row["program"], row["artist"])]
            row["overdue_minor"] = deadline.overdue_minor
            row["oldest_unpaid_on"] = deadline.oldest_unpaid_on
        return rows


class StatementQuerySerializer(QuerySerializer):
    program = IdField()
    # Required for an admin, optional for an artist: a schema cannot make a parameter
    # required per role, so its description says it (the view enforces it).
    artist = IdField(
        required=False,
        help_text=(
            "The artist. An admin must give it (else 400 naming `artist`); an artist may leave "
            "it out (its own statement) — another artist's id is a 404."
        ),
    )
    # `from` is a Python keyword: declared below under its wire name.
    to = LedgerDateField(required=False)
    format = serializers.ChoiceField(choices=["json", "csv", "pdf"], required=False)


StatementQuerySerializer._declared_fields["from"] = LedgerDateField(required=False)


class StatementLineSerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = MoneyOutput(minor="amount_minor", currency="currency")
    balance = MoneyOutput(minor="balance_minor", currency="currency")
    payout = serializers.IntegerField(
        allow_null=True, help_text="A payment's payout (`kind` `payout`); null on other lines."
    )
    acknowledged = serializers.ChoiceField(
        choices=Acknowledgement.choices,
        allow_null=True,
        help_text="On a payment's line: `confirmed` once the artist confirmed receiving it, "
        "else null. Not part of the chain: `POST /statements/verify/` ignores it.",
    )


class StatementSerializer(serializers.Serializer):
    artist = serializers.IntegerField()
    program = serializers.IntegerField()
    currency = serializers.CharField()
    to = serializers.DateField(allow_null=True)
    opening_balance = MoneyOutput(minor="opening_minor", currency="currency")
    closing_balance = MoneyOutput(minor="closing_minor", currency="currency")
    head_hash = serializers.CharField(allow_null=True)
    lines = StatementLineSerializer(many=True)


StatementSerializer._declared_fields["from"] = serializers.DateField(allow_null=True)


class PostingSerializer(RowSerializer):
    account = serializers.CharField(source="account.code", read_only=True)
    amount = MoneyOutput(minor="amount_minor", currency="currency")

    class Meta:
        model = Posting
        fields = ["account", "amount"]
        read_only_fields = fields


_PAGE_POSTINGS = (
    "SELECT p.entry_id, (SELECT a.code FROM ledger_account a WHERE a.id = p.account_id), "
    "p.amount_minor, p.currency FROM ledger_posting p WHERE p.entry_id IN ({marks}) "
    "ORDER BY p.entry_id, p.id"
)


class EntrySerializer(RowSerializer):
    postings = PostingSerializer(many=True, read_only=True)

    class Meta:
        model = Entry
        fields = [
            "id",
            "program",
            "seq",
            "posted_at",
            "effective_date",
            "kind",
            "memo",
            "postings",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields

    @classmethod
    def rows(cls, rows):
        """Already rows: `queries.entry_rows` (plain SQL, paged by its cursor)."""
        return rows

    @classmethod
    def load(cls, rows):
        """Attach each entry's postings (account code, minor units, currency), in id order."""
        by_entry = {row["id"]: row for row in rows}
        for row in rows:
            row["postings"] = []
        if not rows:
            return rows
        # The account code as a subquery, not a join: PostgreSQL hashes the whole account
        # table for a join (1.6 ms at 6,000 artists, growing with them) where 100 primary-key
        # lookups take 0.5 ms (EXPLAIN ANALYZE, docs/PERFORMANCE.md). Plain SQL, integers and
        # strings only: compiling the ORM form cost as much as running it.
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(by_entry))  # placeholders only
            cursor.execute(_PAGE_POSTINGS.format(marks=marks), list(by_entry))
            postings = cursor.fetchall()
        for entry_id, code, amount, currency in postings:
            by_entry[entry_id]["postings"].append(
                {"account": code, "amount_minor": amount, "currency": currency}
            )
        return rows


class VerifyQuerySerializer(QuerySerializer):
    program = IdField()


class StatementCheckSerializer(serializers.Serializer):
    """A statement as GET /statements/ returned it (JSON), to check against the chain."""

    artist = IdField()
    program = IdField()
    head_hash = TextField(max_length=64, allow_null=True)
    lines = serializers.ListField(child=serializers.DictField(), max_length=1_000_000)


class StatementCheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problem = serializers.CharField(allow_null=True)
    entries_checked = serializers.IntegerField()


class VerifySerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    program = serializers.IntegerField()
    entries_checked = serializers.IntegerField()
    postings_checked = serializers.IntegerField()
    head_hash = serializers.CharField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
