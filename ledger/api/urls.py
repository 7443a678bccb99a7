"""Routes of the REST API v1, mounted at /api/v1/ (see docs/API.md)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import docs, views

router = SimpleRouter()
router.register("auth/tokens", views.TokenViewSet, basename="token")
router.register("artists", views.ArtistViewSet, basename="artist")
router.register("programs", views.ProgramViewSet, basename="program")
router.register("contributions", views.ContributionViewSet, basename="contribution")
router.register("payouts", views.PayoutViewSet, basename="payout")
router.register("disputes", views.DisputeViewSet, basename="dispute")
router.register("balances", views.BalanceViewSet, basename="balance")
router.register("ledger/entries", views.EntryViewSet, basename="entry")
router.register("imports", views.ImportJobViewSet, basename="import")
router.register("notifications", views.NotificationViewSet, basename="notification")

contribution_action = {
    name: views.ContributionViewSet.as_view({"post": name})
    for name in ("accept", "reject", "reverse", "withdraw")
}

app_name = "api"
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/preferences/", views.PreferencesView.as_view(), name="me-preferences"),
    path(
        "programs/<int:program_id>/rate-cards/",
        views.RateCardViewSet.as_view({"get": "list", "post": "create"}),
        name="ratecard-list",
    ),
    path(
        "programs/<int:program_id>/rate-cards/<int:card_id>/",
        views.RateCardViewSet.as_view(
            {
                "get": "retrieve",
                "put": "update",
                "patch": "partial_update",
                "delete": "destroy",
            }
        ),
        name="ratecard-detail",
    ),
    path(
        "programs/<int:program_id>/members/",
        views.MemberViewSet.as_view({"get": "list", "post": "create"}),
        name="member-list",
    ),
    path(
        "programs/<int:program_id>/staff/",
        views.StaffViewSet.as_view({"get": "list", "post": "create"}),
        name="staff-list",
    ),
    path(
        "programs/<int:program_id>/staff/<int:staff_id>/",
        views.StaffViewSet.as_view({"delete": "destroy"}),
        name="staff-detail",
    ),
    path(
        "programs/<int:program_id>/invitations/",
        views.InvitationViewSet.as_view({"get": "list", "post": "create"}),
        name="invitation-list",
    ),
    path(
        "programs/<int:program_id>/invitations/<int:invitation_id>/revoke/",
        views.InvitationViewSet.as_view({"post": "revoke"}),
        name="invitation-revoke",
    ),
    path(
        "programs/<int:program_id>/imports/",
        views.ImportViewSet.as_view({"get": "list", "post": "create"}),
        name="import-list",
    ),
    path(
        "programs/<int:program_id>/webhooks/",
        views.WebhookViewSet.as_view({"get": "list", "post": "create"}),
        name="webhook-list",
    ),
    path(
        "programs/<int:program_id>/webhooks/<int:webhook_id>/",
        views.WebhookViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="webhook-detail",
    ),
    path(
        "programs/<int:program_id>/webhooks/<int:webhook_id>/deliveries/",
        views.WebhookDeliveryViewSet.as_view({"get": "list"}),
        name="webhook-delivery-list",
    ),
    path(
        "programs/<int:program_id>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/",
        views.WebhookDeliveryViewSet.as_view({"get": "retrieve"}),
        name="webhook-delivery-detail",
    ),
    path(
        "programs/<int:program_id>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/"
        "redeliver/",
        views.WebhookDeliveryViewSet.as_view({"post": "redeliver"}),
        name="webhook-delivery-redeliver",
    ),
    path("programs/<int:program_id>/report/", views.ReportView.as_view(), name="program-report"),
    *[
        path(
            f"contributions/<int:pk>/{name}/",
            view,
            name=f"contribution-{name}",
        )
        for name, view in contribution_action.items()
    ],
    *[
        path(
            f"payouts/<int:pk>/{name}/",
            views.PayoutViewSet.as_view({"post": name}),
            name=f"payout-{name}",
        )
        for name in ("void", "approve", "decline", "confirm")
    ],
    *[
        path(
            f"disputes/<int:pk>/{name}/",
            views.DisputeViewSet.as_view({"post": name}),
            name=f"dispute-{name}",
        )
        for name in ("uphold", "dismiss", "withdraw")
    ],
    path("statements/", views.StatementView.as_view(), name="statement"),
    path("statements/verify/", views.StatementCheckView.as_view(), name="statement-verify"),
    path("ledger/verify/", views.VerifyView.as_view(), name="ledger-verify"),
    path("ledger/export/", views.JournalExportView.as_view(), name="ledger-export"),
    path("exports/outstanding/", views.OutstandingExportView.as_view(), name="export-outstanding"),
    path(
        "exports/payout-batch/", views.PayoutBatchExportView.as_view(), name="export-payout-batch"
    ),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    path("docs/swagger-ui.css", docs.stylesheet, name="docs-css"),
    path("docs/img/<int:index>/", docs.image, name="docs-img"),
    path("", include(router.urls)),
]
