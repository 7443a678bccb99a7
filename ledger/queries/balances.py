"""Balances: what each membership was valued, paid and still has pending (minor units), and
how much of it is overdue for payment."""

from django.db.models import ExpressionWrapper, IntegerField
from django.db.models.expressions import RawSQL

from ledger import access, clock, routing
from ledger.models import (
    Account,
    AccountKind,
    Membership,
    Program,
)

from .fifo import PayDeadline, pay_cutoff, pay_deadline, unpaid_work
from .report_cache import kept_unpaid
from .rows import SqlRows

# What submitted, unreviewed work would be worth if accepted as submitted (minor units), per
# membership: the one definition of `pending_value`, for the pages' ORM rows (`with_pending`)
# and the API's plain-SQL rows (`balance_rows`). `{m}` is the membership table's name or alias.
_PENDING_MINOR_SQL = (
    "COALESCE((SELECT SUM(c.estimate_minor) FROM ledger_contribution c "
    "WHERE c.program_id = {m}.program_id AND c.artist_id = {m}.artist_id "
    "AND c.status = 'submitted'), 0)"
)


def with_pending(memberships):
    """Annotate memberships with `pending_minor` (`_PENDING_MINOR_SQL`)."""
    # Constant SQL (the table name is the model's own), no parameter.
    pending = RawSQL(_PENDING_MINOR_SQL.format(m=Membership._meta.db_table), [])  # noqa: S611  # nosec B611
    return memberships.annotate(pending_minor=ExpressionWrapper(pending, IntegerField()))


def balances(memberships=None):
    """One row per membership, zero rows included: the API's /balances/ and the artist home."""
    memberships = Membership.objects.all() if memberships is None else memberships
    return with_pending(memberships.select_related("program", "artist"))


# Integers and a currency code only, so the rows need no conversion on either database.
_BALANCE_ROWS_SELECT = (
    "SELECT m.artist_id AS artist, m.program_id AS program, p.currency, m.valued_minor, "  # noqa: S608  # nosec B608
    "m.grants_minor, m.settlements_minor, p.pay_within_days, "
    f"{_PENDING_MINOR_SQL.format(m='m')} AS pending_minor "
    "FROM ledger_membership m JOIN ledger_program p ON p.id = m.program_id"
)


def balance_rows(user, *, artist_id: int | None = None, program_id: int | None = None):
    """The API's /balances/ rows (what `balances()` gives the pages, as dicts), membership
    order: minor units valued, grants, settlements and pending, per membership `user` sees."""
    conditions = access.scope_of(user).sql("m.artist_id", "m.program_id")
    if artist_id is not None:
        conditions.append(("m.artist_id = %s", [artist_id]))
    if program_id is not None:
        conditions.append(("m.program_id = %s", [program_id]))
    return SqlRows(_BALANCE_ROWS_SELECT, conditions, "m.id", Membership)


def pay_deadlines(memberships, *, today=None) -> dict[tuple[int, int], PayDeadline]:
    """Each membership's `PayDeadline` (overdue for payment, oldest unpaid work), keyed by
    (program id, artist id). `memberships`: (program id, artist id, the program's
    `pay_within_days`) triples; `today`: `clock.today()`.

    What is unpaid comes from the figures stored for the report (`report_cache.kept_unpaid`):
    one statement reads the heads of the programs listed and, where the stored figures are
    exact at the head, the listed artists' rows, however many of a program's members are
    listed (the program page lists them all); a program whose head moved is refreshed first
    (the artists whose payable moved). The matching over a page's artists read afresh cost
    about 40 ms at 300 postings per artist (docs/PERFORMANCE.md), ten times the rest of a
    balances page. Inside a transaction, or for a program nothing can be stored of, the
    memberships are read afresh in one statement (`fifo.unpaid_work`).
    """
    memberships = list(memberships)
    today = today or clock.today()
    wanted: dict[int, list[int]] = {}
    for program_id, artist_id, _ in memberships:
        wanted.setdefault(program_id, []).append(artist_id)
    unpaid: dict[tuple[int, int], dict] = {}
    afresh = set()
    kept = kept_unpaid(wanted)
    for program_id, artist_ids in wanted.items():
        if program_id in kept:
            unpaid.update(((program_id, a), days) for a, days in kept[program_id].items())
        else:
            afresh.update((program_id, artist_id) for artist_id in artist_ids)
    if afresh:
        unpaid.update(unpaid_work(afresh))
    return {
        (program_id, artist_id): pay_deadline(
            unpaid.get((program_id, artist_id), {}), pay_cutoff(days, today)
        )
        for program_id, artist_id, days in memberships
    }


def with_pay_deadlines(memberships):
    """Set `overdue_minor` and `oldest_unpaid_on` on each of `memberships` (`Membership`
    objects with their program loaded, as `balances()` gives them; see `pay_deadlines`).
    Returns them as a list."""
    memberships = list(memberships)
    figures = pay_deadlines(
        (m.program_id, m.artist_id, m.program.pay_within_days) for m in memberships
    )
    for m in memberships:
        deadline = figures[(m.program_id, m.artist_id)]
        m.overdue_minor, m.oldest_unpaid_on = deadline.overdue_minor, deadline.oldest_unpaid_on
    return memberships


def payable_balance_minor(program: Program, artist) -> int:
    """What `program` owes `artist`, read from the payable's balance row: O(1).

    The hottest read of the app, so plain SQL: compiling the equivalent ORM query costs
    about ten times what the database spends answering it (see docs/PERFORMANCE.md).
    """
    with routing.read_connection().cursor() as cursor:
        cursor.execute(_PAYABLE_BALANCE_SQL, [program.pk, artist.pk, AccountKind.PAYABLE.value])
        row = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist("This artist has no payable account in this program.")
    return -row[0]


_PAYABLE_BALANCE_SQL = (
    "SELECT b.balance_minor FROM ledger_accountbalance b "
    "JOIN ledger_account a ON a.id = b.account_id "
    "WHERE a.program_id = %s AND a.artist_id = %s AND a.kind = %s"
)
