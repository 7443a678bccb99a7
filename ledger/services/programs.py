"""Programs, rate cards and memberships."""

from django.db import IntegrityError, transaction

from ledger import money
from ledger.errors import ValidationFailed
from ledger.models import AccountKind, LedgerHead, Membership, Program, RateCard, Severity
from ledger.models.contributions import ContributionStatus

from . import audit
from .common import require_admin, require_not_too_early, require_text
from .journal import open_account
from .valuation import estimate


def create_program(*, actor, name: str, currency: str, description: str = "", public=False):
    """Create a program with its labor and cash accounts and an empty hash chain."""
    require_admin(actor)
    if not money.is_currency(currency):
        raise ValidationFailed("Not an ISO 4217 currency code.", field="currency")
    name = require_text(name, "name", "A name is required.")
    with transaction.atomic():
        program = Program.objects.create(
            name=name, currency=currency, description=description, public=public, created_by=actor
        )
        LedgerHead.objects.create(program=program)
        open_account(program=program, kind=AccountKind.LABOR)
        open_account(program=program, kind=AccountKind.CASH)
        # This event's own details; how an audit row is written has one home (audit.record).
        audit.record(
            actor=actor,
            action="program.create",
            obj=program,
            program=program,
            name=name,
            currency=currency,
            public=public,
        )
    return program


def add_rate_card(
    *, actor, program: Program, effective_from, hourly_rate_minor: int, bounties: dict[str, int]
) -> RateCard:
    """Publish a rate card. It values work from `effective_from` until a later card.

    Submitted (unreviewed) work the new card now covers gets its estimate recomputed in the
    same transaction, so pending value always reflects the card that will apply.
    """
    require_admin(actor)
    require_not_too_early(effective_from, "effective_from")
    amounts = {"hourly_rate": hourly_rate_minor} | {
        f"bug_bounties.{k}": v for k, v in bounties.items()
    }
    for field, amount in amounts.items():
        if not isinstance(amount, int) or amount < 0 or amount > money.MAX_MINOR:
            raise ValidationFailed("Must be an amount of at least zero.", field=field)
    missing = [s for s in Severity.values if s not in bounties]
    if missing:
        raise ValidationFailed("A bounty is required.", field=f"bug_bounties.{missing[0]}")
    try:
        with transaction.atomic():
            card = RateCard.objects.create(
                program=program,
                effective_from=effective_from,
                hourly_rate_minor=hourly_rate_minor,
                **{f"bounty_{s}_minor": bounties[s] for s in Severity.values},
                created_by=actor,
            )
            # This event's own details; how an audit row is written has one home (audit.record).
            audit.record(
                actor=actor,
                action="ratecard.create",
                obj=card,
                program=program,
                effective_from=effective_from,
                hourly_rate_minor=hourly_rate_minor,
                bounties=bounties,
            )
            pending = (
                program.contributions.filter(
                    status=ContributionStatus.SUBMITTED, occurred_on__gte=effective_from
                )
                .select_for_update()
                .order_by("id")  # a stable lock order
            )
            for contribution in pending:
                new = estimate(contribution)
                if new != contribution.estimate_minor:
                    contribution.estimate_minor = new
                    contribution.save(update_fields=["estimate_minor"])
    except IntegrityError:
        if RateCard.objects.filter(program=program, effective_from=effective_from).exists():
            raise ValidationFailed(
                "A rate card with this date already exists; publish one with a later date.",
                field="effective_from",
            ) from None
        raise
    return card


def enroll_artist(*, actor, program: Program, artist) -> Membership:
    """Make `artist` a member of `program` and open its payable account."""
    require_admin(actor)
    if artist is None or not artist.is_active:
        raise ValidationFailed("No such active user.", field="artist")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(program=program, artist=artist)
            open_account(program=program, kind=AccountKind.PAYABLE, artist=artist)
            audit.record(
                actor=actor,
                action="membership.create",
                obj=membership,
                program=program,
                artist=artist.pk,
            )
    except IntegrityError:
        if Membership.objects.filter(program=program, artist=artist).exists():
            raise ValidationFailed("Already a member of this program.", field="artist") from None
        raise
    return membership
