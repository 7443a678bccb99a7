"""A program's webhook subscriptions, their deliveries and the log of every attempt: every
staff role of the program reads them; a manager subscribes, removes and redelivers."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response

from ledger import access, services
from ledger.webhooks.models import WebhookDelivery, WebhookSubscription

from ..idempotency import idempotent
from ..serializers import webhooks as ws
from .common import request_body, require_role
from .programs import ProgramChildMixin


class WebhookViewSet(
    ProgramChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Subscriptions; the signing secret is shown once, in the answer that creates one."""

    serializer_class = ws.WebhookSerializer
    lookup_url_kwarg = "webhook_id"

    def program_rows(self, program):
        require_role(self.request, access.Action.READ, program.pk)
        return WebhookSubscription.objects.filter(program=program).order_by("id")

    @extend_schema(request=ws.WebhookCreateSerializer, responses={201: ws.WebhookCreatedSerializer})
    @idempotent
    def create(self, request, program_id):
        program = self.get_program()
        require_role(request, access.Action.MANAGE, program.pk)
        fields = request_body(request, ws.WebhookCreateSerializer)
        subscription = services.create_subscription(actor=request.user, program=program, **fields)
        return Response(
            ws.WebhookCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: None})
    def destroy(self, request, program_id, webhook_id):
        subscription = self.get_object()
        require_role(request, access.Action.MANAGE, subscription.program_id)
        try:
            services.delete_subscription(actor=request.user, subscription=subscription)
        except WebhookSubscription.DoesNotExist:  # removed by someone else meanwhile
            raise exceptions.NotFound("No such webhook.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryViewSet(
    ProgramChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A subscription's deliveries, newest first; one delivery with every attempt."""

    serializer_class = ws.WebhookDeliverySerializer
    lookup_url_kwarg = "delivery_id"

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ws.WebhookDeliveryDetailSerializer
        return ws.WebhookDeliverySerializer

    def program_rows(self, program):
        require_role(self.request, access.Action.READ, program.pk)
        subscription = WebhookSubscription.objects.filter(
            program=program, pk=self.kwargs["webhook_id"]
        ).first()
        if subscription is None:
            raise exceptions.NotFound("No such webhook.")
        rows = WebhookDelivery.objects.filter(subscription=subscription).order_by("-id")
        if self.action == "retrieve":
            rows = rows.prefetch_related("attempt_log")
        return rows

    @extend_schema(request=None, responses={202: ws.WebhookDeliverySerializer})
    @idempotent
    def redeliver(self, request, program_id, webhook_id, delivery_id):
        delivery = self.get_object()
        require_role(request, access.Action.MANAGE, self.get_program().pk)
        delivery = services.redeliver(actor=request.user, delivery=delivery)
        return Response(
            ws.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
