"""Trading accounts and their balances.

Every verified user has one paper account (virtual money, resettable) and one exchange account per
exchange connection, whose balances are synced from the exchange. A balance is one asset of one
account: `total` is the sum of that asset's ledger entries (`trading.models.ledger`), `locked` the
part reserved by open orders, `available` the rest. The database refuses a negative total, a
negative lock and a lock larger than the total, so no code path can spend money that is not there.

Cost basis is the average-cost method: `cost_basis` is the average price paid per unit (in the
account's quote currency, USDT) of what is held now; a sale realises (price - cost_basis) x quantity
into `realized_pnl` and leaves the average unchanged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cryptovault.access import OwnedQuerySet

MONEY: dict[str, Any] = {"max_digits": 38, "decimal_places": 18}  # typed Any: mypy checks ** against each kwarg
QUOTE_CURRENCY = "USDT"


class AccountKind(models.TextChoices):
    PAPER = "paper", "Paper (virtual money)"
    EXCHANGE = "exchange", "Exchange account"


class TradingAccountQuerySet(OwnedQuerySet):
    def active(self) -> TradingAccountQuerySet:
        return self.filter(is_active=True)

    def paper(self) -> TradingAccountQuerySet:
        return self.filter(kind=AccountKind.PAPER)


class TradingAccount(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trading_accounts")
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    connection = models.OneToOneField(
        "exchanges.ExchangeConnection",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="trading_account",
        help_text="The exchange connection whose keys trade for this account (exchange accounts only).",
    )
    name = models.CharField(max_length=80)
    quote_currency = models.CharField(max_length=16, default=QUOTE_CURRENCY)
    is_active = models.BooleanField(default=True, help_text="Off once the connection's keys are revoked.")
    created_at = models.DateTimeField(default=timezone.now)
    synced_at = models.DateTimeField(null=True, blank=True, help_text="Balances last read from the exchange.")
    sync_error = models.CharField(max_length=300, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True, help_text="Paper accounts: last reset.")

    objects = TradingAccountQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(kind="paper"), name="one_paper_account_per_user"),
            models.CheckConstraint(
                condition=(Q(kind="paper", connection__isnull=True) | Q(kind="exchange", connection__isnull=False)),
                name="account_kind_matches_connection",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paper(self) -> bool:
        return self.kind == AccountKind.PAPER


class BalanceQuerySet(OwnedQuerySet):
    owner_field = "account__user"

    def nonzero(self) -> BalanceQuerySet:
        return self.exclude(total=0, locked=0)


class Balance(models.Model):
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="balances")
    asset = models.CharField(max_length=16)
    total = models.DecimalField(**MONEY, default=Decimal(0), help_text="The sum of this asset's ledger entries.")
    locked = models.DecimalField(**MONEY, default=Decimal(0), help_text="Reserved by open orders.")
    cost_basis = models.DecimalField(
        **MONEY, default=Decimal(0), help_text="Average price paid per unit held (average-cost method), in USDT."
    )
    realized_pnl = models.DecimalField(**MONEY, default=Decimal(0), help_text="Profit realised by sales, in USDT.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = BalanceQuerySet.as_manager()

    class Meta:
        ordering = ["account_id", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["account", "asset"], name="one_balance_per_asset"),
            models.CheckConstraint(condition=Q(total__gte=0), name="balance_total_not_negative"),
            models.CheckConstraint(condition=Q(locked__gte=0), name="balance_locked_not_negative"),
            models.CheckConstraint(condition=Q(locked__lte=models.F("total")), name="balance_locked_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.total}"

    @property
    def available(self) -> Decimal:
        return self.total - self.locked
