"""Bulk imports of contributions: upload a CSV file (202, a job to poll), read the jobs."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from ledger import access
from ledger.models import ImportJob
from ledger.params import parse_id
from ledger.services import imports

from .. import serializers as s
from ..idempotency import idempotent
from .common import request_body, require_role
from .programs import ProgramChildMixin


class ImportViewSet(ProgramChildMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A program's imports: its staff read them; a reviewer or manager uploads."""

    serializer_class = s.ImportJobSummarySerializer
    # A file upload, not JSON: the one route whose body may exceed 1 MiB (10 MiB: the
    # exception in `middleware.body_limit`).
    parser_classes = [MultiPartParser]

    def program_rows(self, program):
        require_role(self.request, access.Action.READ, program.pk)
        return ImportJob.objects.filter(program=program).order_by("-created_at", "-id")

    @extend_schema(
        request={"multipart/form-data": s.ImportCreateSerializer},
        responses={202: s.ImportJobSerializer},
        summary="Import contributions from a CSV file (a background job)",
    )
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_role(request, access.Action.LOG_FOR_OTHERS, program.pk)
        fields = request_body(request, s.ImportCreateSerializer)
        job = imports.start_import(
            actor=request.user, program=program, upload=fields["file"], dry_run=fields["dry_run"]
        )
        return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One import, to poll: its program's staff and its importer see it."""

    serializer_class = s.ImportJobSerializer

    def get_queryset(self):
        return ImportJob.objects.visible_to(self.request.user)

    def get_object(self):
        pk = parse_id(self.kwargs["pk"])
        job = None if pk is None else self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise exceptions.NotFound("No such import.")
        return job
