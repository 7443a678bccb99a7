"""Files for other tools: the journal for hledger/beancount, outstanding and payout batches."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from ledger.exports import downloads
from ledger.models import (
    Program,
)

from .. import serializers as s
from ..permissions import IsAdminRole
from .common import CSVRenderer, PlainTextRenderer, query_params


class JournalExportView(GenericAPIView):
    """A program's journal as plain text for hledger or beancount, streamed (admin)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.JournalExportQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), PlainTextRenderer()]

    @extend_schema(
        parameters=[s.JournalExportQuerySerializer],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request):
        params = query_params(request, s.JournalExportQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        return downloads.journal_download(program, params["format"])


class OutstandingExportView(GenericAPIView):
    """Outstanding liabilities of a program, one CSV row per member (admin)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.VerifyQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    @extend_schema(
        parameters=[s.VerifyQuerySerializer], responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request):
        params = query_params(request, s.VerifyQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        return downloads.outstanding_download(program)


class PayoutBatchExportView(GenericAPIView):
    """The payouts of a program paid on one day, one CSV row per artist, for payment tools."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.PayoutBatchQuerySerializer

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    @extend_schema(
        parameters=[s.PayoutBatchQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        params = query_params(request, s.PayoutBatchQuerySerializer)
        program = Program.objects.filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        return downloads.payout_batch_download(program, params["paid_on"])
