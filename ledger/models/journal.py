"""The double-entry journal: accounts, entries (balanced transactions) and postings (legs).

Sign convention: a posting's `amount_minor` is integer minor units, debit positive, credit
negative; an entry's postings sum to zero per currency. Entries and postings are append-only:
on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE, and a deferred constraint trigger
refuses at commit an entry that does not balance, even one written with raw SQL.
Every row carries `program_id`, so the journal can be partitioned or distributed by program.
"""

import pgtrigger
from django.conf import settings
from django.db import models

from .contributions import Contribution
from .disputes import Dispute
from .payouts import Payout
from .programs import Program
from .triggers import append_only

GENESIS_HASH = "0" * 64

# Checks one entry at commit: at least two postings, and a zero sum in every currency.
_CHECK_ENTRY_SQL = """
    IF (SELECT count(*) FROM ledger_posting WHERE entry_id = {entry}) < 2 THEN
        RAISE EXCEPTION 'ledger entry % has fewer than two postings', {entry}
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM ledger_posting WHERE entry_id = {entry}
        GROUP BY currency HAVING sum(amount_minor) <> 0
    ) THEN
        RAISE EXCEPTION 'ledger entry % does not balance', {entry}
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
"""


def _balanced_at_commit(name: str, entry: str) -> pgtrigger.Trigger:
    """A deferred constraint trigger running `_CHECK_ENTRY_SQL` at commit for the entry `entry`
    (an SQL expression of the inserted row) names: set on both entries and postings, so an
    entry is checked whichever of its rows a writer inserts last."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        timing=pgtrigger.Deferred,
        func=_CHECK_ENTRY_SQL.format(entry=entry),
    )


class AccountKind(models.TextChoices):
    LABOR = "labor", "Labor expense"  # per program: the value of accepted work (debit)
    CASH = "cash", "Cash and grant funding"  # per program: money paid out (credit)
    PAYABLE = "payable", "Payable to artist"  # per artist and program: owed (credit balance)


class Account(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="accounts")
    artist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    # A stable, tool-friendly name such as "liabilities:payable:p3:a17" (hledger/beancount).
    code = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "kind"],
                condition=models.Q(artist__isnull=True),
                name="account_program_kind_unique",
            ),
            models.UniqueConstraint(
                fields=["program", "kind", "artist"],
                condition=models.Q(artist__isnull=False),
                name="account_artist_kind_unique",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="payable", artist__isnull=False)
                    | models.Q(kind__in=["labor", "cash"], artist__isnull=True)
                ),
                name="account_artist_iff_payable",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="account_no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self):
        return self.code


class AccountBalance(models.Model):
    """The running balance of one account (minor units, debit positive), with a version.

    Posting locks these rows in id order, checks, then writes: the O(1) balance and the
    place where a settlement is refused before it can overdraw a payable.
    """

    account = models.OneToOneField(
        Account, on_delete=models.PROTECT, primary_key=True, related_name="balance"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    balance_minor = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)  # entries applied to this account
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_id"]

    def __str__(self):
        return f"{self.account_id}: {self.balance_minor} (v{self.version})"


class LedgerHead(models.Model):
    """The tip of a program's hash chain: locked first by every posting in the program."""

    program = models.OneToOneField(
        Program, on_delete=models.PROTECT, primary_key=True, related_name="ledger_head"
    )
    seq = models.BigIntegerField(default=0)  # number of entries in the chain
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self):
        return f"{self.program_id}@{self.seq}"


class EntryKind(models.TextChoices):
    ACCEPTANCE = "acceptance", "Accepted work"
    REVERSAL = "reversal", "Reversal of accepted work"
    PAYOUT = "payout", "Payout"
    VOID = "void", "Void of a payout"
    # The difference an upheld valuation dispute adds to accepted work: linked to the
    # acceptance it adjusts and to the dispute that decided it.
    ADJUSTMENT = "adjustment", "Adjustment of accepted work"


class EntryQuerySet(models.QuerySet):
    def for_program(self, program):
        return self.filter(program=program).order_by("seq")

    def touching_artist(self, artist):
        return self.filter(postings__account__artist=artist).distinct()


class Entry(models.Model):
    """One balanced transaction. `hash` = SHA-256(prev_hash + canonical content)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="entries")
    seq = models.BigIntegerField()  # 1, 2, 3… within the program's chain
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    contribution = models.ForeignKey(
        Contribution, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    payout = models.ForeignKey(
        Payout, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    adjusts = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    dispute = models.OneToOneField(
        Dispute, on_delete=models.PROTECT, null=True, blank=True, related_name="entry"
    )
    memo = models.CharField(max_length=300)
    posted_at = models.DateTimeField()
    effective_date = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["program_id", "seq"]
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["program", "seq"], name="entry_chain_position"),
            # Each source posts at most once per kind: retries cannot double-count.
            models.UniqueConstraint(
                fields=["contribution", "kind"],
                condition=models.Q(contribution__isnull=False)
                & models.Q(kind__in=["acceptance", "reversal"]),
                name="entry_once_per_contribution",
            ),
            models.UniqueConstraint(
                fields=["payout", "kind"],
                condition=models.Q(payout__isnull=False),
                name="entry_once_per_payout",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind__in=["acceptance", "reversal", "adjustment"],
                        contribution__isnull=False,
                        payout__isnull=True,
                    )
                    | models.Q(
                        kind__in=["payout", "void"], payout__isnull=False, contribution__isnull=True
                    )
                ),
                name="entry_has_one_source",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["acceptance", "payout"], reverses__isnull=True)
                | models.Q(kind__in=["reversal", "void"], reverses__isnull=False)
                | models.Q(kind="adjustment", reverses__isnull=True),
                name="entry_mirror_links_original",
            ),
            # An adjustment names the acceptance it adjusts and the dispute that decided it;
            # no other entry names either.
            models.CheckConstraint(
                condition=models.Q(kind="adjustment", adjusts__isnull=False, dispute__isnull=False)
                | (
                    ~models.Q(kind="adjustment")
                    & models.Q(adjusts__isnull=True, dispute__isnull=True)
                ),
                name="entry_adjustment_links",
            ),
        ]
        triggers = [
            *append_only("entry"),
            _balanced_at_commit("entry_balanced", entry="NEW.id"),
        ]

    def __str__(self):
        return f"{self.program_id}#{self.seq} {self.kind}"


class Posting(models.Model):
    """One leg of an entry: `amount_minor` in minor units, debit positive, never zero."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="postings")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["entry_id", "id"]
        indexes = [models.Index(fields=["account", "entry"], name="posting_account_entry")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_minor=0), name="posting_amount_nonzero"
            ),
        ]
        triggers = [
            *append_only("posting"),
            _balanced_at_commit("posting_entry_balanced", entry="NEW.entry_id"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.amount_minor:+d} {self.currency}"
