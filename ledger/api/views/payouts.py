"""Payouts: grants and settlements, and their voids."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from ledger import services
from ledger.models import (
    Payout,
)

from .. import serializers as s
from ..idempotency import idempotent
from .common import RowListMixin, query_params, request_body, require_admin


@extend_schema_view(list=extend_schema(parameters=[s.PayoutFilterSerializer]))
class PayoutViewSet(RowListMixin, viewsets.GenericViewSet):
    serializer_class = s.PayoutSerializer

    def get_queryset(self):
        queryset = Payout.objects.visible_to(self.request.user).order_by("-paid_on", "-id")
        if self.action == "list":
            filters = query_params(self.request, s.PayoutFilterSerializer)
            for name in ("artist", "program", "kind"):
                if name in filters:
                    key = f"{name}_id" if name in ("program", "artist") else name
                    queryset = queryset.filter(**{key: filters[name]})
        return queryset

    @extend_schema(request=s.PayoutCreateSerializer, responses={201: s.PayoutSerializer})
    @idempotent
    def create(self, request):
        require_admin(request)  # a collection-level action: 403 for artists
        fields = request_body(request, s.PayoutCreateSerializer)
        payout = services.record_payout(
            actor=request.user,
            artist=fields["artist"],
            program=fields["program"],
            amount_minor=fields["amount_minor"],
            kind=fields["kind"],
            paid_on=fields["paid_on"],
            method=fields["method"],
            reference=fields["reference"],
            note=fields["note"],
        )
        return self._render(payout, status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return self._render(self.get_object())

    def _render(self, payout, code=status.HTTP_200_OK):
        """The payout as a row of the list."""
        row = s.PayoutSerializer.rows(Payout.objects.filter(pk=payout.pk)).get()
        return Response(s.PayoutSerializer(row).data, status=code)

    @extend_schema(request=s.ReasonSerializer, responses=s.PayoutSerializer)
    @idempotent
    def void(self, request, pk=None):
        payout = self.get_object()
        require_admin(request)
        fields = request_body(request, s.ReasonSerializer)
        payout = services.void_payout(payout=payout, actor=request.user, reason=fields["reason"])
        return self._render(payout)
