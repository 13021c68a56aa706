"""Withdrawals: money leaving a trading account for an outside address.

A paper withdrawal debits the ledger when requested (a `withdrawal` entry) and credits it back if
cancelled while pending; an exchange withdrawal is sent through ccxt once its hold ends and its
status is then followed on the exchange. The address is copied when requested, so the record says
where the money went even after the whitelist entry is removed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cryptovault.access import OwnedQuerySet
from trading.models.accounts import MONEY, TradingAccount


class WithdrawalStatus(models.TextChoices):
    PENDING = "pending", "Pending (can be cancelled)"
    SUBMITTED = "submitted", "Sent to the exchange"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_WITHDRAWAL_STATUSES = (WithdrawalStatus.PENDING, WithdrawalStatus.SUBMITTED)


class WithdrawalQuerySet(OwnedQuerySet):
    owner_field = "account__user"

    def open(self) -> WithdrawalQuerySet:
        return self.filter(status__in=OPEN_WITHDRAWAL_STATUSES)


class Withdrawal(models.Model):
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="withdrawals")
    destination = models.ForeignKey(
        "security.WithdrawalAddress",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="withdrawals",
        help_text="The whitelist entry it went to (empty when whitelist-only mode was off).",
    )
    asset = models.CharField(max_length=16)
    network = models.CharField(max_length=32)
    address = models.CharField(max_length=128)
    memo = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(**MONEY, help_text="What leaves the account, the network fee included.")
    fee = models.DecimalField(**MONEY, default=0, help_text="The network fee, part of `amount`.")
    status = models.CharField(
        max_length=16, choices=WithdrawalStatus.choices, default=WithdrawalStatus.PENDING, db_index=True
    )
    exchange_withdrawal_id = models.CharField(max_length=128, blank=True)
    txid = models.CharField(max_length=128, blank=True, help_text="The transaction on the chain, once known.")
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    process_after = models.DateTimeField(help_text="The end of the hold: cancellable until then.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WithdrawalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "status"], name="withdrawal_account_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(fee__lt=models.F("amount")), name="withdrawal_fee_in_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.asset} to {self.address[:10]}… ({self.status})"
