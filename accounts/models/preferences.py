from __future__ import annotations

from django.conf import settings
from django.db import models

from cryptovault.access import OwnedQuerySet


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class NotificationPreference(models.Model):
    """Whether the user wants events of one type through one channel.

    The event types live in `accounts.notifications.EVENT_TYPES`; later features add theirs.
    A missing row means the type's default.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    event_type = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices)
    enabled = models.BooleanField(default=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event_type", "channel"], name="notification_pref_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_type}/{self.channel}: {'on' if self.enabled else 'off'}"
