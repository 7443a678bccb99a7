"""Files for other tools: the journal for hledger/beancount, outstanding and payout batches."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from ledger import routing
from ledger.exports import downloads

from .. import serializers as s
from ..permissions import IsAdminRole
from .common import CSVRenderer, PlainTextRenderer, query_params, staff_program


class AdminFileView(GenericAPIView):
    """A file an admin downloads: its own renderer beside JSON (which answers errors)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    file_renderer_class = CSVRenderer

    def get_renderers(self):
        return [*super().get_renderers(), self.file_renderer_class()]


class JournalExportView(AdminFileView):
    """A program's journal as plain text for hledger or beancount, streamed (admin)."""

    serializer_class = s.JournalExportQuerySerializer
    file_renderer_class = PlainTextRenderer

    @extend_schema(
        parameters=[s.JournalExportQuerySerializer],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    @routing.replica_reads()
    def get(self, request):
        params = query_params(request, s.JournalExportQuerySerializer)
        return downloads.journal_download(
            staff_program(request, params["program"]), params["format"]
        )


class OutstandingExportView(AdminFileView):
    """Outstanding liabilities of a program, one CSV row per member (admin)."""

    serializer_class = s.VerifyQuerySerializer

    @extend_schema(
        parameters=[s.VerifyQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    @routing.replica_reads()
    def get(self, request):
        params = query_params(request, s.VerifyQuerySerializer)
        return downloads.outstanding_download(staff_program(request, params["program"]))


class XMLRenderer(CSVRenderer):
    media_type = "application/xml"
    format = "xml"


class PayoutBatchExportView(AdminFileView):
    """The payouts of a program paid on one day, one CSV row per artist for payment tools, or
    a pain.001 credit transfer for the program's bank."""

    serializer_class = s.PayoutBatchQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), XMLRenderer()]

    # Alike the other exports' `get` in shape only: each declares its own parameters and media
    # type (drf-spectacular reads them per view) and calls its own download.
    @extend_schema(
        parameters=[s.PayoutBatchQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/xml"): OpenApiTypes.STR,
        },
    )
    def get(self, request):
        params = query_params(request, s.PayoutBatchQuerySerializer)
        program = staff_program(request, params["program"])
        if params["format"] == "pain.001":
            return downloads.payment_file_download(
                actor=request.user, program=program, paid_on=params["paid_on"]
            )
        # From the primary, as the payment file: what is paid from it must not include a
        # payout voided moments ago that a lagging replica still shows.
        return downloads.payout_batch_download(program, params["paid_on"])
