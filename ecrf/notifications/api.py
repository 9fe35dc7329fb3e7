from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ecrf.notifications.models import Notification
from ecrf.notifications.selectors import inbox_for, notification_get
from ecrf.notifications.services import notification_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    # The public id, not the primary key (ecrf.notifications.models.Notification).
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Notification
        fields = ("id", "kind", "subject", "body", "link", "created_at", "delivered_at", "read_at")
        read_only_fields = fields


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Your own in-app inbox."""

    serializer_class = NotificationSerializer
    filterset_fields = ("kind",)
    queryset = Notification.objects.none()

    def get_queryset(self):  # noqa: ANN201
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return inbox_for(self.request.user)

    def get_object(self) -> Notification:
        return notification_get(self.request.user, self.kwargs["pk"])

    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        note = notification_mark_read(actor=request.user, notification=self.get_object())
        return Response(NotificationSerializer(note).data)


def register(router) -> None:  # noqa: ANN001
    router.register("notifications", NotificationViewSet, basename="notification")
