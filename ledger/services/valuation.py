"""What a contribution is worth under the rate card in effect on the day it happened."""

from decimal import Decimal

from ledger.models import Contribution, ContributionKind, RateCard
from ledger.money import value_of_hours


def card_for(contribution: Contribution) -> RateCard | None:
    """The card in effect on the day the work happened, or None."""
    return RateCard.objects.in_effect(contribution.program_id, contribution.occurred_on)


def value_with(card: RateCard, *, kind: str, hours: Decimal | None, severity: str | None) -> int:
    """Minor units: hours × hourly rate (ROUND_HALF_EVEN, once) or the severity's bounty."""
    if kind == ContributionKind.FEEDBACK:
        return value_of_hours(hours, card.hourly_rate_minor)
    return card.bounty_minor(severity)


def estimate(contribution: Contribution) -> int:
    card = card_for(contribution)
    if card is None:
        return 0
    return value_with(
        card, kind=contribution.kind, hours=contribution.hours, severity=contribution.severity
    )
