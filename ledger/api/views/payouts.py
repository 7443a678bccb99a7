"""Payouts: grants and settlements, and their voids."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from ledger import services
from ledger.models import (
    Payout,
)

from .. import serializers as s
from ..idempotency import idempotent
from .common import RowListMixin, query_params, require_admin


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

    @extend_schema(parameters=[s.PayoutFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.PayoutCreateSerializer, responses={201: s.PayoutSerializer})
    @idempotent
    def create(self, request):
        require_admin(request)  # a collection-level action: 403 for artists
        data = s.PayoutCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
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
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.void_payout(
            payout=payout, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._render(payout)
