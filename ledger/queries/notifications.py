"""Notifications: what a person's navigation shows of its inbox, and its payments to confirm."""

from django.db.models import Count, Sum

from ledger import routing
from ledger.models import Payout, PayoutStatus

# Every page a signed-in person opens shows this count: plain SQL (the ORM's compile of it
# cost more than the statement), answered from the partial index `notification_unread`.
_UNREAD_SQL = "SELECT COUNT(*) FROM ledger_notification WHERE user_id = %s AND read_at IS NULL"


def unread_count(user) -> int:
    """How many of `user`'s notifications are unread (0 for an anonymous visitor)."""
    if user is None or not user.is_authenticated:
        return 0
    with routing.read_connection().cursor() as cursor:
        cursor.execute(_UNREAD_SQL, [user.pk])
        return cursor.fetchone()[0]


def unconfirmed_payments(artist) -> dict[int, dict]:
    """Per program id, `{"count", "amount_minor"}` of the payouts paid to `artist` that it has
    not yet confirmed receiving (one query)."""
    rows = (
        Payout.objects.filter(artist=artist, status=PayoutStatus.PAID, acknowledged__isnull=True)
        .values("program_id")
        .annotate(count=Count("id"), amount_minor=Sum("amount_minor"))
        .order_by()
    )
    return {row.pop("program_id"): row for row in rows}
