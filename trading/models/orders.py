"""Orders and their fills.

An order belongs to one trading account (and, denormalised for the read gate, to its user). What it
asks for (side, type, quantity or quote amount, prices, time in force) is fixed when placed; what
happened to it (status, filled quantity, average price, fees, the reservation it still holds) is
written only by `trading.services` inside the transaction that moves the money.

An OCO is two orders (legs) sharing `oco_group`: a limit leg at `price` and a stop leg triggered at
`stop_price` (a market order, or a limit at `price` of that leg when it is a stop-limit). The limit leg
holds the reservation for both (on an exchange account, the leg sent to the exchange holds it); when either
leg fills, the other is cancelled in the same transaction.

`execution` says who runs the order: `paper` (our paper engine), `native` (sent to the exchange as its
own order type) or `emulated` (held here and sent to the exchange as a market or limit order when its
trigger is reached).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cryptovault.access import OwnedQuerySet
from trading.models.accounts import MONEY, TradingAccount


class OrderSide(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"


class OrderType(models.TextChoices):
    MARKET = "market", "Market"
    LIMIT = "limit", "Limit"
    STOP_LOSS = "stop_loss", "Stop-loss"
    TAKE_PROFIT = "take_profit", "Take-profit"
    STOP_LIMIT = "stop_limit", "Stop-limit"
    TRAILING_STOP = "trailing_stop", "Trailing stop"
    OCO = "oco", "OCO (one cancels the other)"


class OcoLeg(models.TextChoices):
    LIMIT = "limit", "Limit leg"
    STOP = "stop", "Stop leg"


class TimeInForce(models.TextChoices):
    GTC = "gtc", "Good till cancelled"
    IOC = "ioc", "Immediate or cancel"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # accepted, waiting for its trigger or for the exchange's answer
    OPEN = "open", "Open"
    PARTIALLY_FILLED = "partially_filled", "Partially filled"
    FILLED = "filled", "Filled"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"  # an IOC order that could not fill at once


OPEN_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


class Execution(models.TextChoices):
    PAPER = "paper", "Paper engine"
    NATIVE = "native", "Exchange (native order type)"
    EMULATED = "emulated", "Held by CryptoVault, sent to the exchange when triggered"


# The order types an exchange account sends to the exchange as its own (at placement, through ccxt).
# Every other type is held here and sent as a market or limit order when its trigger is reached
# (trading.services.live explains why). The one place that says so.
NATIVE_TYPES = frozenset({OrderType.MARKET, OrderType.LIMIT})


def execution_for(account: TradingAccount, order_type: str) -> str:
    """Who runs an order of `order_type` on `account`: the paper engine, the exchange, or us then the exchange."""
    if account.is_paper:
        return Execution.PAPER
    return Execution.NATIVE if order_type in NATIVE_TYPES else Execution.EMULATED


class OrderQuerySet(OwnedQuerySet):
    def open(self) -> OrderQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Order(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="orders")
    client_order_id = models.CharField(
        max_length=48, help_text="The caller's id; placing again with the same id returns this order."
    )
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the normalised request.")
    symbol = models.CharField(max_length=32, help_text="BASE/QUOTE, e.g. BTC/USDT.")
    base_asset = models.CharField(max_length=16)
    quote_asset = models.CharField(max_length=16)
    side = models.CharField(max_length=4, choices=OrderSide.choices)
    type = models.CharField(max_length=16, choices=OrderType.choices)
    oco_leg = models.CharField(max_length=8, choices=OcoLeg.choices, blank=True)
    oco_group = models.UUIDField(null=True, blank=True, db_index=True)
    time_in_force = models.CharField(max_length=4, choices=TimeInForce.choices, default=TimeInForce.GTC)
    quantity = models.DecimalField(**MONEY, null=True, blank=True, help_text="Base quantity asked for.")
    quote_amount = models.DecimalField(**MONEY, null=True, blank=True, help_text="Quote value asked for.")
    price = models.DecimalField(**MONEY, null=True, blank=True, help_text="Limit price.")
    stop_price = models.DecimalField(**MONEY, null=True, blank=True, help_text="Trigger price.")
    trailing_percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    trailing_amount = models.DecimalField(**MONEY, null=True, blank=True)
    trail_reference = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="Trailing stops: the best price seen since placement."
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    execution = models.CharField(max_length=16, choices=Execution.choices)
    triggered_at = models.DateTimeField(null=True, blank=True)
    filled_quantity = models.DecimalField(**MONEY, default=0)
    filled_quote = models.DecimalField(**MONEY, default=0, help_text="Sum of the fills' quote value.")
    average_price = models.DecimalField(**MONEY, null=True, blank=True)
    fee_total = models.DecimalField(**MONEY, default=0)
    fee_asset = models.CharField(max_length=16, blank=True)
    reserved_asset = models.CharField(max_length=16, blank=True)
    reserved_amount = models.DecimalField(**MONEY, default=0, help_text="Still locked for this order.")
    exchange_order_id = models.CharField(max_length=64, blank=True)
    reject_code = models.CharField(max_length=64, blank=True)
    reject_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="order_user_time_idx"),
            models.Index(fields=["account", "status"], name="order_account_status_idx"),
            # Every tick reads the resting orders of its symbols: only open orders are indexed.
            models.Index(
                fields=["symbol", "execution"],
                condition=Q(status__in=["pending", "open", "partially_filled"]),
                name="order_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_order_id"], name="order_client_id_unique_per_user"),
            models.CheckConstraint(condition=Q(filled_quantity__gte=0), name="order_filled_not_negative"),
            models.CheckConstraint(condition=Q(reserved_amount__gte=0), name="order_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0), name="order_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(quote_amount__isnull=True) | Q(quote_amount__gt=0), name="order_quote_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.symbol} {self.get_type_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class FillQuerySet(OwnedQuerySet):
    owner_field = "account__user"


class Fill(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fills")
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="fills")
    price = models.DecimalField(**MONEY)
    quantity = models.DecimalField(**MONEY)
    quote_quantity = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY, default=0)
    fee_asset = models.CharField(max_length=16, blank=True)
    is_maker = models.BooleanField(default=False)
    exchange_trade_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = FillQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"], name="fill_account_time_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "exchange_trade_id"],
                condition=~Q(exchange_trade_id=""),
                name="fill_exchange_trade_once",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fill_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gt=0), name="fill_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} @ {self.price}"
