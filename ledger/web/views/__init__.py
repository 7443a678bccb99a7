"""The server-rendered pages: thin views over the services (writes) and queries (reads), one
module per part of the site. Domain errors become form errors beside their fields.
"""

from .banking import bank_details, bank_details_remove
from .common import PAGE_SIZE, admin_required, role_required
from .contributions import (
    ACTION_LABELS,
    contribution_accept,
    contribution_detail,
    contribution_list,
    contribution_reject,
    contribution_reverse,
    contribution_withdraw,
    log_bug,
    log_feedback,
    rate_preview,
)
from .disputes import (
    dispute_contribution,
    dispute_detail,
    dispute_dismiss,
    dispute_list,
    dispute_payout,
    dispute_uphold,
    dispute_withdraw,
)
from .exports import journal_export, outstanding_export, payout_batch_export
from .home import home
from .imports import (
    import_detail,
    import_progress,
    import_run,
    import_template,
    program_imports,
)
from .invitations import invitation_accept, invitation_revoke, invitations
from .notifications import (
    notification_preferences,
    notification_read,
    notifications,
    notifications_read_all,
)
from .passwords import PasswordResetConfirmView, PasswordResetView
from .payouts import (
    payout_approve,
    payout_confirm,
    payout_decline,
    payout_detail,
    payout_new,
    payout_proposals,
    payout_void,
    payouts,
)
from .programs import (
    member_new,
    program_detail,
    program_list,
    program_new,
    program_settings,
    program_staff,
    rate_card_new,
    staff_revoke,
)
from .review import review_bulk_accept, review_queue
from .second_factor import (
    SignInView,
    login_code,
    two_factor,
    two_factor_disable,
    two_factor_enrol,
    two_factor_recovery,
)
from .statements import statement, statement_csv_view, statement_pdf_view
from .tokens import api_token_revoke, api_tokens, api_tokens_revoke_all
from .transparency import transparency, transparency_index
from .webhooks import program_webhooks, webhook_detail, webhook_redeliver, webhook_remove

__all__ = [
    "ACTION_LABELS",
    "PAGE_SIZE",
    "PasswordResetConfirmView",
    "PasswordResetView",
    "SignInView",
    "admin_required",
    "api_token_revoke",
    "api_tokens",
    "api_tokens_revoke_all",
    "bank_details",
    "bank_details_remove",
    "contribution_accept",
    "contribution_detail",
    "contribution_list",
    "contribution_reject",
    "contribution_reverse",
    "contribution_withdraw",
    "dispute_contribution",
    "dispute_detail",
    "dispute_dismiss",
    "dispute_list",
    "dispute_payout",
    "dispute_uphold",
    "dispute_withdraw",
    "home",
    "import_detail",
    "import_progress",
    "import_run",
    "import_template",
    "invitation_accept",
    "invitation_revoke",
    "invitations",
    "journal_export",
    "log_bug",
    "log_feedback",
    "login_code",
    "member_new",
    "notification_preferences",
    "notification_read",
    "notifications",
    "notifications_read_all",
    "outstanding_export",
    "payout_approve",
    "payout_batch_export",
    "payout_confirm",
    "payout_decline",
    "payout_detail",
    "payout_new",
    "payout_proposals",
    "payout_void",
    "payouts",
    "program_detail",
    "program_imports",
    "program_list",
    "program_new",
    "program_settings",
    "program_staff",
    "program_webhooks",
    "rate_card_new",
    "rate_preview",
    "review_bulk_accept",
    "review_queue",
    "role_required",
    "staff_revoke",
    "statement",
    "statement_csv_view",
    "statement_pdf_view",
    "transparency",
    "transparency_index",
    "two_factor",
    "two_factor_disable",
    "two_factor_enrol",
    "two_factor_recovery",
    "webhook_detail",
    "webhook_redeliver",
    "webhook_remove",
]
