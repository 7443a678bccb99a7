"""What a contribution is worth under the rate card in effect on the day it happened."""

from ledger.models import Contribution, RateCard


def card_for(contribution: Contribution) -> RateCard | None:
    """The card in effect on the day the work happened, or None."""
    return RateCard.objects.in_effect(contribution.program_id, contribution.occurred_on)


def estimate(contribution: Contribution) -> int:
    card = card_for(contribution)
    if card is None:
        return 0
    return card.value_of(
        kind=contribution.kind, hours=contribution.hours, severity=contribution.severity
    )
