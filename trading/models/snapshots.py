"""One equity snapshot per user per day: the history the analytics issue reads.

Taken by the `trading.snapshot_equity` beat task shortly after midnight UTC (and by
`trading.services.portfolio.equity_snapshot_take` on demand): the total value in USDT of every
account's holdings at that day's prices, with the per-asset breakdown.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from cryptovault.access import OwnedQuerySet
from trading.models.accounts import MONEY


class EquitySnapshot(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="equity_snapshots")
    date = models.DateField()
    total_value = models.DecimalField(**MONEY, help_text="Every account's holdings, in USDT.")
    holdings = models.JSONField(default=dict, help_text='{"BTC": {"quantity": "0.5", "value": "45000"}, ...}')
    created_at = models.DateTimeField(default=timezone.now)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="one_equity_snapshot_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.total_value}"
