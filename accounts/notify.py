"""Tell a user about something that happened, through the channels they chose for its type.

In the app means an event on their own websocket group (/ws/events); email goes to their
address. Both leave after the surrounding transaction commits, so a rolled-back change is never
announced. Channels a user has not set fall back to the type's defaults
(`accounts.notifications.EVENT_TYPES`). SMS delivery of notifications is not built yet.
"""

from __future__ import annotations

from typing import Any

from accounts.models import NotificationChannel, User
from accounts.selectors import notification_preferences
from accounts.services.emails import send_account_email
from cryptovault.events import broadcast_on_commit, user_group


def chosen_channels(user: User, event_type: str) -> set[str]:
    """The channels the profile page shows as on for this type (the one rule: accounts.selectors)."""
    return {channel for channel, on in notification_preferences(user=user)[event_type].items() if on}


def notify(*, user: User, event_type: str, title: str, body: str, payload: dict[str, Any], link: str = "") -> set[str]:
    """Deliver `title`/`body` to `user` by their preferences for `event_type`; returns the channels used."""
    channels = chosen_channels(user, event_type)
    if NotificationChannel.IN_APP in channels:
        broadcast_on_commit(
            user_group(user.pk),
            "notification",
            {"event_type": event_type, "title": title, "body": body, "link": link, **payload},
        )
    if NotificationChannel.EMAIL in channels and user.email:
        send_account_email(
            to=user.email, template="notification", context={"user": user, "title": title, "body": body, "link": link}
        )
    return channels & {NotificationChannel.IN_APP, NotificationChannel.EMAIL}
