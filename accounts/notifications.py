"""Notification event types and their default channels. Later features add their types here."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import NotificationChannel


@dataclass(frozen=True)
class EventType:
    key: str
    label: str
    default_channels: frozenset[str]


EVENT_TYPES: dict[str, EventType] = {
    event.key: event
    for event in (
        EventType(
            "security",
            "Security: sign-ins from a new device, 2FA and password changes, lockouts",
            frozenset({NotificationChannel.IN_APP, NotificationChannel.EMAIL}),
        ),
        EventType(
            "account",
            "Account: verification, data exports",
            frozenset({NotificationChannel.IN_APP, NotificationChannel.EMAIL}),
        ),
        EventType(
            "exchanges",
            "Exchange connections: a connection stops working or recovers",
            frozenset({NotificationChannel.IN_APP, NotificationChannel.EMAIL}),
        ),
        EventType(
            "alerts",
            "Price alerts: a price alert you set is reached",
            frozenset({NotificationChannel.IN_APP, NotificationChannel.EMAIL}),
        ),
        EventType(
            "orders",
            "Orders: an order is placed, filled, cancelled, rejected or expires (email off unless you turn it on)",
            frozenset({NotificationChannel.IN_APP}),
        ),
    )
}
