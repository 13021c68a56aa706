"""The profile (name, timezone) and notification preferences."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import NotificationChannel, NotificationPreference, User
from accounts.notifications import EVENT_TYPES
from accounts.selectors import notification_preferences
from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from security.audit import audit_record


@transaction.atomic
def profile_update(*, actor: Actor, user: User, **fields: Any) -> User:
    """Change name and/or timezone. The phone changes only through SMS verification."""
    changed = [name for name in ("name", "timezone") if name in fields]
    for name in changed:
        setattr(user, name, fields[name])
    user.full_clean(exclude=["password"])
    user.save(update_fields=changed)
    if changed:
        audit_record("profile.updated", actor=actor, user=user, fields=changed)
    return user


@transaction.atomic
def notification_preferences_set(*, actor: Actor, user: User, preferences: dict[str, dict[str, bool]]) -> dict:
    for event_type, channels in preferences.items():
        if event_type not in EVENT_TYPES:
            raise DomainError(f"Unknown event type {event_type!r}.", field="preferences")
        for channel, enabled in channels.items():
            if channel not in NotificationChannel.values:
                raise DomainError(f"Unknown channel {channel!r}.", field="preferences")
            NotificationPreference.objects.update_or_create(
                user=user, event_type=event_type, channel=channel, defaults={"enabled": bool(enabled)}
            )
    audit_record("profile.notifications_updated", actor=actor, user=user)
    return notification_preferences(user=user)
