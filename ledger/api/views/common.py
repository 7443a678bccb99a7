"""What every resource's views share: query parameters, the role check, row lists, renderers."""

from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer

from ledger.models import Program

from ..permissions import is_admin


def query_params(request, serializer_class) -> dict:
    """Validate query parameters with a serializer (400 naming the parameter)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def request_body(request, serializer_class, context=None) -> dict:
    """Validate the request body with a serializer (400 naming the field)."""
    serializer = serializer_class(data=request.data, context=context or {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def admin_program(program_id) -> Program:
    """The program an admin-only view names (404 if there is none). No visibility scope:
    the view's permission classes already require an admin, who sees every program."""
    program = Program.objects.filter(pk=program_id).first()
    if program is None:
        raise exceptions.NotFound("No such program.")
    return program


def require_admin(request) -> None:
    if not is_admin(request.user):
        raise exceptions.PermissionDenied("Only an admin may do this.")


class RowListMixin:
    # `list` over rows: the view's queryset as its serializer's `rows()`, rendered by a
    # `RowSerializer` (see serializers.py for why).

    def list(self, request, *args, **kwargs):
        serializer_class = self.get_serializer_class()
        rows = serializer_class.rows(self.filter_queryset(self.get_queryset()))
        page = serializer_class.load(self.paginate_queryset(rows))
        return self.get_paginated_response(serializer_class(page, many=True).data)


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PDFRenderer(CSVRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None


class PlainTextRenderer(CSVRenderer):
    media_type = "text/plain"
    format = "txt"
