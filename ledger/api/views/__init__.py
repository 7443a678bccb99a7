"""REST API v1: thin views over the services (writes) and queries (reads), one module per
resource.

Each view scopes its queryset to what the caller may see (`visible_to`), so an invisible
object is a 404 whatever the action; role checks come after and answer 403. Every
authenticated POST goes through `@idempotent`. Domain errors are translated once, in
`errors.exception_handler`.
"""

from .auth import ArtistViewSet, MeView, TokenViewSet
from .common import (
    CSVRenderer,
    PDFRenderer,
    PlainTextRenderer,
    RowListMixin,
    query_params,
)
from .contributions import ContributionViewSet
from .disputes import DisputeViewSet
from .exports import JournalExportView, OutstandingExportView, PayoutBatchExportView
from .imports import ImportJobViewSet, ImportViewSet
from .ledger import BalanceViewSet, EntryViewSet, StatementCheckView, StatementView, VerifyView
from .notifications import NotificationViewSet, PreferencesView
from .payouts import PayoutViewSet
from .programs import (
    InvitationViewSet,
    MemberViewSet,
    ProgramChildMixin,
    ProgramViewSet,
    RateCardViewSet,
    ReportView,
    StaffViewSet,
)
from .schema import DocsView, NotFoundView, SchemaView
from .webhooks import WebhookDeliveryViewSet, WebhookViewSet

__all__ = [
    "ArtistViewSet",
    "BalanceViewSet",
    "CSVRenderer",
    "ContributionViewSet",
    "DisputeViewSet",
    "DocsView",
    "EntryViewSet",
    "ImportJobViewSet",
    "ImportViewSet",
    "InvitationViewSet",
    "JournalExportView",
    "MeView",
    "MemberViewSet",
    "NotFoundView",
    "NotificationViewSet",
    "OutstandingExportView",
    "PDFRenderer",
    "PayoutBatchExportView",
    "PayoutViewSet",
    "PlainTextRenderer",
    "PreferencesView",
    "ProgramChildMixin",
    "ProgramViewSet",
    "RateCardViewSet",
    "ReportView",
    "RowListMixin",
    "SchemaView",
    "StaffViewSet",
    "StatementCheckView",
    "StatementView",
    "TokenViewSet",
    "VerifyView",
    "WebhookDeliveryViewSet",
    "WebhookViewSet",
    "query_params",
]
