"""The only write paths. Each service is one atomic transaction that also writes its audit row.

Services are deliberately not `durable`: the API's idempotency layer wraps them in an outer
transaction together with the key claim and the stored response.
"""

from .banking import bank_details_of, payment_file, set_bank_details
from .contributions import (
    accept_contribution,
    accept_contributions,
    reject_contribution,
    reverse_contribution,
    submit_contribution,
    withdraw_contribution,
)
from .deadlines import apply_deadlines
from .disputes import dismiss_dispute, open_dispute, uphold_dispute, withdraw_dispute
from .invitations import (
    accept_invitation,
    accept_invitation_as_new_user,
    find_invitation,
    invite,
    revoke_invitation,
)
from .notifications import mark_all_read, mark_read, set_preferences
from .payouts import (
    approve_payout,
    confirm_payout,
    confirmation_refusal,
    decline_payout,
    preview_payout,
    record_payout,
    void_payout,
)
from .programs import (
    add_rate_card,
    create_program,
    enroll_artist,
    grant_role,
    revoke_role,
    update_program,
)
from .users import (
    create_artist,
    create_user,
    disable_second_factor,
    enable_second_factor,
    regenerate_recovery_codes,
    revoke_all_tokens,
    revoke_token,
)
from .webhooks import create_subscription, delete_subscription, redeliver

__all__ = [
    "accept_contribution",
    "accept_contributions",
    "accept_invitation",
    "accept_invitation_as_new_user",
    "add_rate_card",
    "apply_deadlines",
    "approve_payout",
    "bank_details_of",
    "confirm_payout",
    "confirmation_refusal",
    "create_artist",
    "create_program",
    "create_subscription",
    "create_user",
    "decline_payout",
    "delete_subscription",
    "disable_second_factor",
    "dismiss_dispute",
    "enable_second_factor",
    "enroll_artist",
    "find_invitation",
    "grant_role",
    "invite",
    "mark_all_read",
    "mark_read",
    "open_dispute",
    "payment_file",
    "preview_payout",
    "record_payout",
    "redeliver",
    "regenerate_recovery_codes",
    "reject_contribution",
    "reverse_contribution",
    "revoke_all_tokens",
    "revoke_invitation",
    "revoke_role",
    "revoke_token",
    "set_bank_details",
    "set_preferences",
    "submit_contribution",
    "update_program",
    "uphold_dispute",
    "void_payout",
    "withdraw_contribution",
    "withdraw_dispute",
]
