"""/api/v1/notifications/: the notification centre for scripts and apps.

The list is the page's list: the same selector (the read gate), the same FilterSet (`unread`,
`category`, `priority`), the same page size. Another user's notification is not found (404).
An API key with the `read` scope lists them; no API key marks them read: a leaked read-only key
must not clear the owner's unread security alerts (no scope fits, so keys are refused, 403).
New notifications arrive live on /ws/events as `notification` events.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response

from accounts.models.notifications import Notification
from accounts.notifications import (
    NotificationFilterSet,
    notification_for,
    notifications_for,
    unread_count,
)
from accounts.notify import notification_mark_read, notifications_mark_all_read
from cryptovault.api.views import ServiceApiView

TAGS = ["notifications"]


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField(help_text="Whether it was read (in the app or here).")

    class Meta:
        model = Notification
        fields = [
            "id",
            "event",
            "category",
            "priority",
            "title",
            "body",
            "link",
            "payload",
            "created_at",
            "read_at",
            "read",
        ]
        read_only_fields = fields

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications this marked read.")
    unread = serializers.IntegerField(help_text="How many are unread now (0).")


class NotificationsApiView(ServiceApiView):
    api_key_scopes = {"GET": "read"}  # marking read is a change: refused to every key


@extend_schema_view(
    get=extend_schema(
        summary="Your notifications",
        description="Newest first: security alerts, orders, price alerts, exchange connections and wallet. "
        "`unread=true` lists only the unread ones. `link` is a path on this site; `payload` holds the ids and "
        "figures of what happened (never a secret). An API key needs `read`.",
        tags=TAGS,
    )
)
class NotificationListView(NotificationsApiView, generics.ListAPIView):
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        return notifications_for(user=self.request.user)


class NotificationReadView(NotificationsApiView):
    @extend_schema(
        summary="Mark a notification read",
        description="Answers the notification, `read_at` set (kept from the first time when it was read already). "
        "Personal API keys cannot.",
        request=None,
        responses={200: NotificationSerializer},
        tags=TAGS,
    )
    def post(self, request, notification_id: int):
        notification = notification_for(user=request.user, pk=notification_id)
        notification = notification_mark_read(user=request.user, notification=notification)
        return Response(NotificationSerializer(notification).data)


class NotificationsReadAllView(NotificationsApiView):
    @extend_schema(
        summary="Mark every notification read",
        description="Answers how many this marked, and the unread count after it (0). Personal API keys cannot.",
        request=None,
        responses={200: ReadAllSerializer},
        tags=TAGS,
    )
    def post(self, request):
        marked = notifications_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread": unread_count(request.user) if not marked else 0})
