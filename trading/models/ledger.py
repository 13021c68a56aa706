"""The ledger: every change of a balance, one immutable row each.

A balance's `total` is the sum of its entries, which `manage.py verify_ledger` checks. Entries are
never edited or deleted: `save()` refuses an update and `delete()` refuses outright, and the admin
shows them read-only. A correction is a new `adjustment` entry. Amounts are signed Decimals in the
entry's asset: positive credits, negative debits.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from cryptovault.access import OwnedQuerySet
from trading.models.accounts import MONEY, TradingAccount


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    TRADE = "trade", "Trade"
    FEE = "fee", "Fee"
    ADJUSTMENT = "adjustment", "Adjustment"
    RESET = "reset", "Reset"


class ImmutableEntry(Exception):
    """Ledger entries are append-only."""


class LedgerEntryQuerySet(OwnedQuerySet):
    owner_field = "account__user"


class LedgerEntry(models.Model):
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="ledger_entries")
    asset = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(**MONEY, help_text="Signed: credits positive, debits negative.")
    balance_after = models.DecimalField(**MONEY, help_text="The asset's total right after this entry.")
    order = models.ForeignKey(
        "trading.Order", on_delete=models.CASCADE, null=True, blank=True, related_name="ledger_entries"
    )
    fill = models.ForeignKey("trading.Fill", on_delete=models.CASCADE, null=True, blank=True, related_name="entries")
    withdrawal = models.ForeignKey(
        "trading.Withdrawal", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["account", "asset", "id"], name="ledger_account_asset_idx"),
            models.Index(fields=["account", "created_at"], name="ledger_account_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.asset}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableEntry("Ledger entries are append-only; post an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableEntry("Ledger entries are append-only; post an adjustment instead.")
