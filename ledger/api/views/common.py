"""What every resource's views share: query parameters, the role check, row lists, renderers."""

from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer

from ledger import access, routing
from ledger.models import Program


def query_params(request, serializer_class) -> dict:
    """Validate query parameters with a serializer (400 naming the parameter)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def request_body(request, serializer_class, context=None) -> dict:
    """Validate the request body with a serializer (400 naming the field)."""
    serializer = serializer_class(
        data=request.data, context={"request": request, **(context or {})}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def staff_program(request, program_id, action=access.Action.READ) -> Program:
    """The program a staff view names: 404 unless the caller sees it, then 403 unless its
    roles there allow `action` (an artist member sees the program but not its books)."""
    program = Program.objects.visible_to(request.user).filter(pk=program_id).first()
    if program is None:
        raise exceptions.NotFound("No such program.")
    require_role(request, action, program.pk)
    return program


def require_staff(request) -> None:
    """A collection-level staff action (creating a payout or program, reading the books):
    403 for a caller who is staff of no program. The program's own role is checked next."""
    if not access.is_staff(request.user):
        raise exceptions.PermissionDenied("Only a program's staff may do this.")


def require_role(request, action, program_id) -> None:
    """403 unless the caller's roles in the program allow `action` (`ledger.access`)."""
    if not access.can(request.user, action, program_id):
        raise exceptions.PermissionDenied(access.REFUSAL[action])


def require_permission(request, permission: str, message: str) -> None:
    """403 unless the caller holds a Django permission outside any program."""
    if not access.has_permission(request.user, permission):
        raise exceptions.PermissionDenied(message)


class RowListMixin:
    # `list` over rows: the view's queryset as its serializer's `rows()`, rendered by a
    # `RowSerializer` (see serializers.py for why).

    @routing.replica_reads()
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
