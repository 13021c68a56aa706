"""Notification categories (the rows of the profile's preference grid) and their default channels,
and the unread count the nav badge shows. The events themselves, with their wording, are in
`accounts.notification_events`; each names one of these categories.
"""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django import forms
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import NotificationChannel
from accounts.models.notifications import Notification, NotificationPriority


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
            "Security: sign-ins from a new device, 2FA and password changes, lockouts, API keys, IP allowlist, "
            "withdrawal addresses. Critical alerts always come in the app and by email (and by SMS to a verified "
            "phone): they cannot be turned off",
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
        EventType(
            "wallet",
            "Wallet: deposits received, withdrawals completed, failed or cancelled",
            frozenset({NotificationChannel.IN_APP, NotificationChannel.EMAIL}),
        ),
    )
}


# --- the unread count, cached: the nav badge costs no query on a signed-in page ----------------------
UNREAD_CACHE_TIMEOUT = 24 * 3600


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user) -> int:
    """How many in-app notifications `user` has not read: from the cache, counted once per change.

    `accounts.notify` forgets the cached figure after a notification commits and after one is read.
    """
    key = unread_cache_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.visible_to(user).unread().count()
        cache.set(key, count, UNREAD_CACHE_TIMEOUT)
    return count


def forget_unread_count(user_id: int) -> None:
    cache.delete(unread_cache_key(user_id))


def refresh_unread_count(user) -> int:
    """Count again now (after a read), so the next page's badge is a cache hit."""
    forget_unread_count(user.pk)
    return unread_count(user)


# --- the notification centre: one selector and one FilterSet for the page and the API ------------------
def notifications_for(*, user) -> QuerySet[Notification]:
    """`user`'s notifications, newest first (the read gate)."""
    return Notification.objects.visible_to(user).order_by("-created_at", "-id")


def notification_for(*, user, pk: int) -> Notification:
    """One of `user`'s notifications; another user's is not found (Notification.DoesNotExist)."""
    return Notification.objects.visible_to(user).get(pk=pk)


class ReadStateWidget(django_filters.widgets.BooleanWidget):
    """`true`/`false` as the API takes them, in words on the page."""

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs)
        self.choices = [("", "Read and unread"), ("true", "Unread"), ("false", "Read")]

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        raw = data.get(name)
        if value is None and raw not in (None, ""):
            return str(raw)  # not a read state: ReadStateField says so instead of ignoring it
        return value


class ReadStateField(forms.NullBooleanField):
    widget = ReadStateWidget

    def to_python(self, value):
        if isinstance(value, str) and value:
            raise ValidationError(
                "Choose `true` (only unread notifications) or `false` (only read ones).", code="invalid_choice"
            )
        return super().to_python(value)


class ReadStateFilter(django_filters.BooleanFilter):
    field_class = ReadStateField


class NotificationFilterSet(django_filters.FilterSet):
    """What the centre's filters and `GET /api/v1/notifications/` take (the same names)."""

    unread = ReadStateFilter(
        method="filter_unread",
        label="Show",
        widget=ReadStateWidget,
        help_text="`true`: only notifications not read yet; `false`: only read ones.",
    )
    category = django_filters.ChoiceFilter(
        choices=[(key, key.capitalize()) for key in EVENT_TYPES],
        empty_label="Every kind",
        label="Kind",
        help_text="The preference category: " + ", ".join(f"`{key}`" for key in EVENT_TYPES) + ".",
    )
    priority = django_filters.ChoiceFilter(
        choices=NotificationPriority.choices,
        empty_label="Any priority",
        label="Priority",
        help_text="`low`, `normal`, `high` or `critical`.",
    )

    class Meta:
        model = Notification
        fields = ["unread", "category", "priority"]

    def filter_unread(self, queryset: QuerySet[Notification], name: str, value: bool | None) -> QuerySet[Notification]:
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)
