"""The audit log: who did what, when, from where, for every sensitive action."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cryptovault.access import OwnedQuerySet


class AuditEventQuerySet(OwnedQuerySet):
    """A user sees the records about their own account; staff see everyone's in the admin."""


class AuditEvent(models.Model):
    """One sensitive action. Written once, never edited; kept when the user is anonymised."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        help_text="Whose account the action concerns.",
    )
    actor_email = models.CharField(
        max_length=254, blank=True, help_text="Who acted (the user, or staff), as typed or as known then."
    )
    action = models.CharField(max_length=64, db_index=True)
    via = models.CharField(
        max_length=16,
        blank=True,
        db_index=True,
        help_text="Where it came from: page, api, admin, command, task, system.",
    )
    outcome = models.CharField(max_length=16, default="success", db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_email or '-'}"
