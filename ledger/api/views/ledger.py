"""Balances, statements and the ledger itself: entries and their verification."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from ledger import queries, routing
from ledger.exports import downloads
from ledger.exports.checkpoint import verify_statement
from ledger.models import (
    Membership,
    Program,
)
from ledger.verify import verify_program

from .. import serializers as s
from ..idempotency import idempotent
from ..pagination import EntryCursorPagination
from ..permissions import IsAdminRole
from .common import (
    CSVRenderer,
    PDFRenderer,
    RowListMixin,
    query_params,
    request_body,
    staff_program,
)


@extend_schema_view(list=extend_schema(parameters=[s.ProgramArtistFilterSerializer]))
class BalanceViewSet(RowListMixin, viewsets.GenericViewSet):
    """One row per membership, zero rows included."""

    serializer_class = s.BalanceSerializer

    def get_queryset(self):
        filters = query_params(self.request, s.ProgramArtistFilterSerializer)
        return queries.balance_rows(
            self.request.user, artist_id=filters.get("artist"), program_id=filters.get("program")
        )


class StatementView(GenericAPIView):
    """An artist's statement in a program: JSON; CSV with ?format=csv or Accept: text/csv;
    PDF with ?format=pdf or Accept: application/pdf."""

    serializer_class = s.StatementSerializer

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer(), PDFRenderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # someone's pay record: no cache keeps a copy
        return response

    @extend_schema(
        parameters=[s.StatementQuerySerializer],
        responses={
            (200, "application/json"): s.StatementSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
        },
    )
    @routing.replica_reads()
    def get(self, request):
        params = query_params(request, s.StatementQuerySerializer)
        program = Program.objects.visible_to(request.user).filter(pk=params["program"]).first()
        if program is None:
            raise exceptions.NotFound("No such program.")
        if "artist" not in params and queries.must_name_artist(request.user, program):
            raise exceptions.ValidationError({"artist": ["Name the artist."]})
        membership = queries.statement_membership(request.user, program, params.get("artist"))
        if membership is None:
            raise exceptions.NotFound("No such statement.")
        artist_id = membership.artist_id
        date_from, date_to = params.get("from"), params.get("to")
        if date_from and date_to and date_from > date_to:
            raise exceptions.ValidationError({"to": ["Must not be before `from`."]})
        statement = queries.statement(
            artist=membership.artist, program=program, date_from=date_from, date_to=date_to
        )
        wanted = params.get("format") or request.accepted_renderer.format
        if wanted == "csv":
            return downloads.statement_csv_download(statement)
        if wanted == "pdf":
            return downloads.statement_pdf_download(statement)
        currency = program.currency
        data = {
            "artist": artist_id,
            "program": program.pk,
            "currency": currency,
            "from": date_from,
            "to": date_to,
            "opening_minor": statement.opening_minor,
            "closing_minor": statement.closing_minor,
            "head_hash": statement.head_hash,
            "lines": [
                {
                    "date": line.date,
                    "kind": line.kind,
                    "description": line.description,
                    "amount_minor": line.amount_minor,
                    "balance_minor": line.balance_minor,
                    "currency": currency,
                    "payout": line.payout_id,
                    "acknowledged": line.acknowledged,
                }
                for line in statement.lines
            ],
        }
        return Response(s.StatementSerializer(data).data)


@extend_schema_view(list=extend_schema(parameters=[s.ProgramArtistFilterSerializer]))
class EntryViewSet(RowListMixin, viewsets.GenericViewSet):
    """Ledger entries, oldest first. An artist sees the entries touching its own accounts."""

    serializer_class = s.EntrySerializer
    pagination_class = EntryCursorPagination

    def get_queryset(self):
        filters = query_params(self.request, s.ProgramArtistFilterSerializer)
        return queries.entry_rows(
            self.request.user, program_id=filters.get("program"), artist_id=filters.get("artist")
        )


class VerifyView(GenericAPIView):
    """Recompute a program's chain and balances from the stored postings (admin)."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    serializer_class = s.VerifySerializer

    @extend_schema(parameters=[s.VerifyQuerySerializer], responses=s.VerifySerializer)
    def get(self, request):
        program = staff_program(request, query_params(request, s.VerifyQuerySerializer)["program"])
        result = verify_program(program)
        return Response(
            s.VerifySerializer(
                {
                    "ok": result.ok,
                    "program": program.pk,
                    "entries_checked": result.entries_checked,
                    "postings_checked": result.postings_checked,
                    "head_hash": result.head_hash,
                    "problems": result.problems,
                }
            ).data
        )


class StatementCheckView(GenericAPIView):
    """Check a statement (as GET /statements/ returned it) against the ledger's hash chain.

    An artist may check its own statements; an admin any. Nothing is written.
    """

    serializer_class = s.StatementCheckSerializer

    @extend_schema(request=s.StatementCheckSerializer, responses=s.StatementCheckResultSerializer)
    @idempotent
    def post(self, request):
        shape = request_body(request, s.StatementCheckSerializer)
        visible = Membership.objects.visible_to(request.user).filter(
            program_id=shape["program"], artist_id=shape["artist"]
        )
        if not visible.exists():
            raise exceptions.NotFound("No such statement.")
        result = verify_statement(request.data)
        return Response(
            s.StatementCheckResultSerializer(
                {
                    "ok": result.ok,
                    "problem": result.problem,
                    "entries_checked": result.entries_checked,
                }
            ).data
        )
