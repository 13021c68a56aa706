"""Notifications: what a user was told, and how each channel delivered it.

`accounts.notify.notify` writes one `Notification` per event and one `NotificationDelivery` per
channel it goes out on (in-app, email, SMS). The notification centre reads the first; the admin and
the delivery tasks read the second, so a failed SMS is visible and retried without touching email.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models.preferences import NotificationChannel
from cryptovault.access import OwnedQuerySet


class NotificationPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class NotificationQuerySet(OwnedQuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One thing a user was told. Kept for the notification centre; read once opened."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=64, db_index=True, help_text="What happened (`security.new_ip_sign_in`).")
    category = models.CharField(
        max_length=32, db_index=True, help_text="The preference it follows (`accounts.notifications.EVENT_TYPES`)."
    )
    priority = models.CharField(
        max_length=16, choices=NotificationPriority.choices, default=NotificationPriority.NORMAL, db_index=True
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="A path in the app to look at it.")
    payload = models.JSONField(default=dict, blank=True, help_text="Ids and figures for clients; never a secret.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.event} to {self.user_id}: {self.title}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"
    SKIPPED = "skipped", "Skipped"


class NotificationDeliveryQuerySet(OwnedQuerySet):
    owner_field = "notification__user"


class NotificationDelivery(models.Model):
    """One channel's delivery of a notification, with its attempts, for retries and for support."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True, help_text="Why the last attempt failed; no secret.")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When the last attempt started.")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="When the next attempt is due, after a failure.")
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["notification_id", "channel"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="one_delivery_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"
