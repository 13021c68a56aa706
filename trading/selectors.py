"""Reads of price alerts, for pages, the API and the admin.

Every read a person makes starts from the one gate, `PriceAlert.objects.visible_to(user)`: another
user's alert is simply not found (404). Only the price feed reads everyone's active alerts
(`trading.services.alerts.alerts_evaluate`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trading.models import PriceAlert


def alerts_for(*, user: Any) -> QuerySet[PriceAlert]:
    """The user's alerts, newest first; narrowed by `trading.filters.PriceAlertFilterSet`."""
    return PriceAlert.objects.visible_to(user).order_by("-created_at", "-id")


def alert_for(*, user: Any, pk: Any) -> PriceAlert:
    """The user's alert `pk` (any status); `PriceAlert.DoesNotExist` otherwise."""
    return PriceAlert.objects.visible_to(user).get(pk=pk)
