"""Contributions: logging work and reviewing it."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from ledger import access, queries, routing, services
from ledger.models import (
    Contribution,
)
from ledger.params import parse_id

from .. import serializers as s
from ..idempotency import idempotent
from .common import query_params, request_body, require_role


class ContributionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ContributionSerializer

    def get_queryset(self):
        return Contribution.objects.visible_to(self.request.user).order_by("-submitted_at", "-id")

    @extend_schema(parameters=[s.ContributionFilterSerializer])
    @routing.replica_reads()
    def list(self, request, *args, **kwargs):
        # Pages, the detail and the review actions' answers: rows of queries.contribution_rows.
        filters = query_params(request, s.ContributionFilterSerializer)
        page = self.paginate_queryset(queries.contribution_rows(request.user, **filters))
        page = s.ContributionSerializer.load(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._render(pk)

    @extend_schema(
        request=s.ContributionCreateSerializer, responses={201: s.ContributionSerializer}
    )
    @idempotent
    def create(self, request):
        fields = request_body(request, s.ContributionCreateSerializer, {"request": request})
        contribution = services.submit_contribution(actor=request.user, **fields)
        return self._render(contribution.pk, status.HTTP_201_CREATED)

    def _render(self, pk, code=status.HTTP_200_OK):
        """One contribution the caller sees, as a row of the list (404 otherwise)."""
        pk = parse_id(pk)
        if pk is None:
            raise exceptions.NotFound()
        rows = s.ContributionSerializer.load(
            queries.contribution_rows(self.request.user, id=pk)[0:1]
        )
        if not rows:
            raise exceptions.NotFound()
        return Response(s.ContributionSerializer(rows[0]).data, status=code)

    def _review(self, request, serializer_class, decide):
        """A reviewer's decision: 404 before 403, then the body checked by `serializer_class`
        and passed to the service `decide` by name; answers the contribution as a row."""
        contribution = self.get_object()
        require_role(request, access.Action.REVIEW, contribution.program_id)
        fields = request_body(request, serializer_class)
        contribution = decide(contribution=contribution, actor=request.user, **fields)
        return self._render(contribution.pk)

    @extend_schema(request=s.AcceptSerializer, responses=s.ContributionSerializer)
    @idempotent
    def accept(self, request, pk=None):
        return self._review(request, s.AcceptSerializer, services.accept_contribution)

    @extend_schema(request=s.ReasonSerializer, responses=s.ContributionSerializer)
    @idempotent
    def reject(self, request, pk=None):
        return self._review(request, s.ReasonSerializer, services.reject_contribution)

    @extend_schema(request=s.ReasonSerializer, responses=s.ContributionSerializer)
    @idempotent
    def reverse(self, request, pk=None):
        return self._review(request, s.ReasonSerializer, services.reverse_contribution)

    @extend_schema(request=None, responses=s.ContributionSerializer)
    @idempotent
    def withdraw(self, request, pk=None):
        contribution = self.get_object()
        contribution = services.withdraw_contribution(contribution=contribution, actor=request.user)
        return self._render(contribution.pk)
