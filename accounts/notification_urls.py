"""/notifications/: the notification centre (its API is under /api/v1/notifications/)."""

from django.urls import path

from accounts.views import notifications

app_name = "notifications"

urlpatterns = [
    path("", notifications.NotificationsView.as_view(), name="list"),
    path("<int:notification_id>/read/", notifications.notification_read, name="read"),
    path("read-all/", notifications.notifications_read_all, name="read_all"),
]
