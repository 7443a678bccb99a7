"""Notifications: the caller's own inbox, and its preferences."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from ledger import services
from ledger.models import Notification

from .. import serializers as s
from ..idempotency import idempotent
from .common import RowListMixin, query_params, request_body


@extend_schema_view(
    list=extend_schema(
        parameters=[s.NotificationFilterSerializer], summary="Your notifications, newest first"
    )
)
class NotificationViewSet(RowListMixin, viewsets.GenericViewSet):
    """Each person's own: another's notification is a 404 to everyone, operators included."""

    serializer_class = s.NotificationSerializer

    def get_queryset(self):
        queryset = Notification.objects.of(self.request.user).order_by("-created_at", "-id")
        if self.action == "list":
            unread = query_params(self.request, s.NotificationFilterSerializer).get("unread")
            if unread is not None:
                queryset = queryset.filter(read_at__isnull=unread == "true")
        return queryset

    @extend_schema(request=None, responses=s.NotificationSerializer, summary="Mark one read")
    @action(detail=True, methods=["post"])
    @idempotent
    def read(self, request, pk=None):
        notification = services.mark_read(notification=self.get_object(), user=request.user)
        return self._render(notification)

    @extend_schema(
        request=None, responses=s.NotificationsMarkedSerializer, summary="Mark all yours read"
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    @idempotent
    def read_all(self, request):
        return Response({"marked": services.mark_all_read(user=request.user)})

    def _render(self, notification):
        """The notification as a row of the list."""
        rows = s.NotificationSerializer.rows(Notification.objects.filter(pk=notification.pk))
        (row,) = s.NotificationSerializer.load(list(rows))
        return Response(s.NotificationSerializer(row).data)


class PreferencesView(GenericAPIView):
    serializer_class = s.PreferencesSerializer

    @extend_schema(responses=s.PreferencesSerializer, summary="Your preferences")
    def get(self, request):
        return Response(s.PreferencesSerializer(s.PreferencesSerializer.of(request.user)).data)

    @extend_schema(
        request=s.PreferencesUpdateSerializer,
        responses=s.PreferencesSerializer,
        summary="Change your preferences (the fields sent)",
    )
    def patch(self, request):
        fields = request_body(request, s.PreferencesUpdateSerializer)
        services.set_preferences(user=request.user, **fields)
        return Response(s.PreferencesSerializer(s.PreferencesSerializer.of(request.user)).data)
