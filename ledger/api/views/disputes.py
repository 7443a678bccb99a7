"""Disputes: opened by the artist concerned, decided by the program's staff in the role that
makes such decisions, withdrawn by the artist."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from ledger import access, services
from ledger.models import Dispute
from ledger.services import disputes

from .. import serializers as s
from ..idempotency import idempotent
from .common import RowListMixin, query_params, request_body

DECIDE = access.DisputeStep.DECIDE


@extend_schema_view(list=extend_schema(parameters=[s.DisputeFilterSerializer]))
class DisputeViewSet(RowListMixin, viewsets.GenericViewSet):
    serializer_class = s.DisputeSerializer

    def get_queryset(self):
        queryset = Dispute.objects.visible_to(self.request.user).order_by("-opened_at", "-id")
        if self.action == "list":
            filters = query_params(self.request, s.DisputeFilterSerializer)
            for name in ("program", "artist"):
                if name in filters:
                    queryset = queryset.filter(**{f"{name}_id": filters[name]})
            if "status" in filters:
                queryset = queryset.filter(status=filters["status"])
        return queryset

    @extend_schema(request=s.DisputeCreateSerializer, responses={201: s.DisputeSerializer})
    @idempotent
    def create(self, request):
        fields = request_body(request, s.DisputeCreateSerializer)
        dispute = services.open_dispute(actor=request.user, **fields)
        return self._render(dispute, status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return self._render(self.get_object())

    def _render(self, dispute, code=status.HTTP_200_OK):
        """The dispute as a row of the list."""
        row = s.DisputeSerializer.rows(Dispute.objects.filter(pk=dispute.pk)).get()
        return Response(s.DisputeSerializer(row).data, status=code)

    def _decide(self, request, step, serializer_class, decide):
        """A step on a dispute the caller sees (404 otherwise), by who may take it (403,
        `disputes.step_refusal`), then the body checked by `serializer_class` (None: no body)
        and passed to the service `decide` (which checks again under its lock)."""
        dispute = self.get_object()
        refused = disputes.step_refusal(request.user, dispute, step)
        if refused is not None:
            raise refused
        fields = request_body(request, serializer_class) if serializer_class else {}
        return self._render(decide(dispute=dispute, actor=request.user, **fields))

    @extend_schema(request=s.DisputeUpholdSerializer, responses=s.DisputeSerializer)
    @idempotent
    def uphold(self, request, pk=None):
        return self._decide(request, DECIDE, s.DisputeUpholdSerializer, services.uphold_dispute)

    @extend_schema(request=s.DisputeDismissSerializer, responses=s.DisputeSerializer)
    @idempotent
    def dismiss(self, request, pk=None):
        return self._decide(request, DECIDE, s.DisputeDismissSerializer, services.dismiss_dispute)

    @extend_schema(request=None, responses=s.DisputeSerializer)
    @idempotent
    def withdraw(self, request, pk=None):
        return self._decide(request, access.DisputeStep.WITHDRAW, None, services.withdraw_dispute)
