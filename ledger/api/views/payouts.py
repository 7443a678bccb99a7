"""Payouts: grants and settlements, and their voids."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from ledger import access, services
from ledger.models import (
    Payout,
)

from .. import serializers as s
from ..idempotency import idempotent
from .common import RowListMixin, query_params, request_body, require_role, require_staff


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
        require_staff(request)  # a collection-level action: 403 for artists
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

    def _decide(self, request, serializer_class, decide):
        """A treasurer's decision on a payout: 404 before 403, then the body checked by
        `serializer_class` (None: no body) and passed to the service `decide` by name."""
        payout = self.get_object()
        require_role(request, access.Action.PAY, payout.program_id)
        fields = request_body(request, serializer_class) if serializer_class else {}
        return self._render(decide(payout=payout, actor=request.user, **fields))

    @extend_schema(request=s.ReasonSerializer, responses=s.PayoutSerializer)
    @idempotent
    def void(self, request, pk=None):
        return self._decide(request, s.ReasonSerializer, services.void_payout)

    @extend_schema(request=None, responses=s.PayoutSerializer)
    @idempotent
    def approve(self, request, pk=None):
        return self._decide(request, None, services.approve_payout)

    @extend_schema(request=s.ReasonSerializer, responses=s.PayoutSerializer)
    @idempotent
    def decline(self, request, pk=None):
        return self._decide(request, s.ReasonSerializer, services.decline_payout)

    @extend_schema(
        request=None, responses=s.PayoutSerializer, summary="The artist confirms receiving it"
    )
    @idempotent
    def confirm(self, request, pk=None):
        # 404 before 403: get_object hides what the caller cannot see; the service refuses
        # everyone but the artist paid, and anything but a paid payout.
        return self._render(services.confirm_payout(payout=self.get_object(), actor=request.user))
