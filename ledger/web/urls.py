"""Page routes, mounted at the site root (the REST API lives under /api/v1/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

# One route a line, alike in shape by design: the list is where a reader finds each URL and
# the name templates reverse; a generated list would hide both.
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitations/<str:secret>/", views.invitation_accept, name="invitation_accept"),
    path("", views.home, name="home"),
    path("contributions/", views.contribution_list, name="contribution_list"),
    path("contributions/new/feedback/", views.log_feedback, name="log_feedback"),
    path("contributions/new/bug-report/", views.log_bug, name="log_bug"),
    path("contributions/rate-preview/", views.rate_preview, name="rate_preview"),
    path("contributions/<int:pk>/", views.contribution_detail, name="contribution_detail"),
    path(
        "contributions/<int:pk>/withdraw/",
        views.contribution_withdraw,
        name="contribution_withdraw",
    ),
    path("contributions/<int:pk>/accept/", views.contribution_accept, name="contribution_accept"),
    path("contributions/<int:pk>/reject/", views.contribution_reject, name="contribution_reject"),
    path(
        "contributions/<int:pk>/reverse/", views.contribution_reverse, name="contribution_reverse"
    ),
    path(
        "contributions/<int:pk>/dispute/", views.dispute_contribution, name="dispute_contribution"
    ),
    path("review/", views.review_queue, name="review_queue"),
    path("review/accept/", views.review_bulk_accept, name="review_bulk_accept"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/new/", views.payout_new, name="payout_new"),
    path("payouts/proposals/", views.payout_proposals, name="payout_proposals"),
    path("payouts/<int:pk>/", views.payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/void/", views.payout_void, name="payout_void"),
    path("payouts/<int:pk>/dispute/", views.dispute_payout, name="dispute_payout"),
    path("payouts/<int:pk>/approve/", views.payout_approve, name="payout_approve"),
    path("payouts/<int:pk>/decline/", views.payout_decline, name="payout_decline"),
    path("payouts/<int:pk>/confirm/", views.payout_confirm, name="payout_confirm"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute_detail"),
    path("disputes/<int:pk>/uphold/", views.dispute_uphold, name="dispute_uphold"),
    path("disputes/<int:pk>/dismiss/", views.dispute_dismiss, name="dispute_dismiss"),
    path("disputes/<int:pk>/withdraw/", views.dispute_withdraw, name="dispute_withdraw"),
    path("programs/", views.program_list, name="program_list"),
    path("programs/new/", views.program_new, name="program_new"),
    path("programs/<int:pk>/", views.program_detail, name="program_detail"),
    path("programs/<int:pk>/rate-cards/", views.rate_card_new, name="rate_card_new"),
    path("programs/<int:pk>/members/", views.member_new, name="member_new"),
    path("programs/<int:pk>/imports/", views.program_imports, name="program_imports"),
    path(
        "programs/<int:pk>/imports/template.csv",
        views.import_template,
        name="import_template",
    ),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/run/", views.import_run, name="import_run"),
    path("programs/<int:pk>/staff/", views.program_staff, name="program_staff"),
    path(
        "programs/<int:pk>/staff/<int:staff_id>/revoke/",
        views.staff_revoke,
        name="staff_revoke",
    ),
    path("programs/<int:pk>/settings/", views.program_settings, name="program_settings"),
    path("programs/<int:pk>/webhooks/", views.program_webhooks, name="program_webhooks"),
    path(
        "programs/<int:pk>/webhooks/<int:webhook_id>/",
        views.webhook_detail,
        name="webhook_detail",
    ),
    path(
        "programs/<int:pk>/webhooks/<int:webhook_id>/remove/",
        views.webhook_remove,
        name="webhook_remove",
    ),
    path(
        "programs/<int:pk>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("programs/<int:program_id>/invitations/", views.invitations, name="invitations"),
    path(
        "programs/<int:program_id>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("programs/<int:program_id>/statement/", views.statement, name="statement"),
    path(
        "programs/<int:program_id>/statement.csv",
        views.statement_csv_view,
        name="statement_csv",
    ),
    path("programs/<int:program_id>/statement.pdf", views.statement_pdf_view, name="statement_pdf"),
    path(
        "programs/<int:pk>/journal.<str:fmt>",
        views.journal_export,
        name="journal_export",
    ),
    path("programs/<int:pk>/outstanding.csv", views.outstanding_export, name="outstanding_csv"),
    path("payouts/batch.csv", views.payout_batch_export, name="payout_batch_csv"),
    path("programs/<int:pk>/transparency/", views.transparency, name="transparency"),
    path("transparency/", views.transparency_index, name="transparency_index"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/enrol/", views.two_factor_enrol, name="two_factor_enrol"),
    path("account/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path(
        "account/two-factor/recovery-codes/",
        views.two_factor_recovery,
        name="two_factor_recovery",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path(
        "account/notifications/",
        views.notification_preferences,
        name="notification_preferences",
    ),
    path("account/bank/", views.bank_details, name="bank_details"),
    path("account/bank/remove/", views.bank_details_remove, name="bank_details_remove"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("tokens/revoke-all/", views.api_tokens_revoke_all, name="api_tokens_revoke_all"),
]
