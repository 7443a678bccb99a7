"""What a contribution is worth under the rate card in effect on the day it happened."""

from django.db import connection

from ledger.models import Contribution, RateCard


def card_for(contribution: Contribution) -> RateCard | None:
    """The card in effect on the day the work happened (the latest `effective_from` not after
    it), or None. Plain SQL: acceptance runs it every time, and the ORM's compile of the same
    query was a tenth of an acceptance (docs/PERFORMANCE.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CARD_IN_EFFECT,
            [
                contribution.program_id,
                connection.ops.adapt_datefield_value(contribution.occurred_on),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else RateCard.from_db(connection.alias, _CARD_COLUMNS, row)


# What valuing needs, in the model's field order (as `from_db` needs); the card's other
# fields (created_at, created_by) load on use.
_CARD_COLUMNS = [
    "id",
    "program_id",
    "effective_from",
    "hourly_rate_minor",
    "bounty_low_minor",
    "bounty_medium_minor",
    "bounty_high_minor",
    "bounty_critical_minor",
]
_CARD_IN_EFFECT = (
    "SELECT id, program_id, effective_from, hourly_rate_minor, bounty_low_minor, "
    "bounty_medium_minor, bounty_high_minor, bounty_critical_minor "
    "FROM ledger_ratecard WHERE program_id = %s AND effective_from <= %s "
    "ORDER BY effective_from DESC LIMIT 1"
)


def estimate(contribution: Contribution) -> int:
    card = card_for(contribution)
    if card is None:
        return 0
    return card.value_of(
        kind=contribution.kind, hours=contribution.hours, severity=contribution.severity
    )
