"""What the orders and trades API accepts and answers.

The place serializer only shapes the request: types, decimals as strings never rounded
(`trading.api.fields`), the client order id's alphabet, and the account among the caller's own.
Which fields an order type needs, the market's limits (minimum, step, tick, notional), the funds
and idempotency are the order service's (`trading.services.orders.order_place`), whose errors come
back as per-field 400s, 409s and 422s in the one error shape.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cryptovault.api.serializers import ErrorSerializer
from trading.api.fields import AmountField, AmountInputField
from trading.api.serializers import SYMBOL_HELP
from trading.models import (
    Fill,
    OcoLeg,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from trading.selectors import accounts_for

CLIENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,36}$"


def _values(choices: type[models.TextChoices]) -> str:
    return ", ".join(f"`{value}`" for value in choices.values)


EXECUTION_HELP = (
    "Who runs the order: `paper` (the paper engine, virtual money), `native` (sent to the exchange as its own "
    "order type: market and limit orders) or `emulated` (held by CryptoVault and sent to the exchange as a "
    "market or limit order when its trigger is reached: stop-loss, take-profit, stop-limit, trailing stop, OCO)."
)


# --- answers ----------------------------------------------------------------------------------------
class FillSerializer(serializers.ModelSerializer):
    """One trade: a fill of one of your orders, with its fee."""

    order = serializers.IntegerField(source="order_id", help_text="The order it filled.")
    account = serializers.IntegerField(source="account_id")
    symbol = serializers.CharField(source="order.symbol")
    # Plain strings, not enums: the order's own `side` would give drf-spectacular two enum names.
    side = serializers.CharField(source="order.side", help_text="`buy` or `sell`.")
    price = AmountField(help_text="Execution price, in the quote currency.")
    quantity = AmountField(help_text="Base quantity filled.")
    quote_quantity = AmountField(help_text="price x quantity, in the quote currency.")
    fee = AmountField(help_text="Fee charged for this fill, in `fee_asset`.")
    is_maker = serializers.BooleanField(help_text="The fill added liquidity (maker fee) rather than took it (taker).")
    exchange_trade_id = serializers.CharField(help_text="The exchange's trade id; empty for paper fills.")

    class Meta:
        model = Fill
        fields = [
            "id",
            "order",
            "account",
            "symbol",
            "side",
            "price",
            "quantity",
            "quote_quantity",
            "fee",
            "fee_asset",
            "is_maker",
            "exchange_trade_id",
            "created_at",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    """One order as listed: what was asked, what happened, and who runs it."""

    account = serializers.IntegerField(source="account_id")
    side = serializers.CharField(help_text=_values(OrderSide) + ".")
    type = serializers.CharField(help_text=_values(OrderType) + ".")
    oco_leg = serializers.CharField(help_text="OCO orders: `limit` or `stop` (the two legs); empty otherwise.")
    oco_group = serializers.UUIDField(allow_null=True, help_text="OCO orders: the id both legs share.")
    time_in_force = serializers.CharField(help_text="`gtc` (good till cancelled) or `ioc` (immediate or cancel).")
    status = serializers.CharField(
        help_text=_values(OrderStatus) + ". `pending`: waiting for its trigger, or for the exchange's answer."
    )
    execution = serializers.CharField(help_text=EXECUTION_HELP)
    quantity = AmountField(allow_null=True, help_text="Base quantity asked for (null when given as `quote_amount`).")
    quote_amount = AmountField(allow_null=True, help_text="Quote value asked for (market orders).")
    price = AmountField(allow_null=True, help_text="Limit price (for an OCO stop leg: its stop-limit price).")
    stop_price = AmountField(allow_null=True, help_text="Trigger price (stop types, OCO stop leg).")
    trailing_percent = AmountField(allow_null=True)
    trailing_amount = AmountField(allow_null=True)
    trail_reference = AmountField(
        allow_null=True, help_text="Trailing stops: the best price seen since placement, which the stop follows."
    )
    filled_quantity = AmountField()
    filled_quote = AmountField(help_text="Sum of the fills' quote value.")
    average_price = AmountField(allow_null=True, help_text="Average fill price; null before the first fill.")
    fee_total = AmountField()
    reserved_asset = serializers.CharField(help_text="The asset locked for this order while it works.")
    reserved_amount = AmountField(help_text="What is still locked for it; 0 once it is done.")
    reject_code = serializers.CharField(help_text="Why it was rejected, for programs; empty unless rejected.")
    reject_reason = serializers.CharField(help_text="Why it was rejected, in words.")

    class Meta:
        model = Order
        fields = [
            "id",
            "account",
            "client_order_id",
            "symbol",
            "side",
            "type",
            "oco_leg",
            "oco_group",
            "time_in_force",
            "quantity",
            "quote_amount",
            "price",
            "stop_price",
            "trailing_percent",
            "trailing_amount",
            "trail_reference",
            "status",
            "execution",
            "triggered_at",
            "filled_quantity",
            "filled_quote",
            "average_price",
            "fee_total",
            "fee_asset",
            "reserved_asset",
            "reserved_amount",
            "exchange_order_id",
            "reject_code",
            "reject_reason",
            "created_at",
            "updated_at",
            "closed_at",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    """One order with its fills and, for an OCO, both legs (the limit leg first)."""

    fills = serializers.SerializerMethodField(help_text="Its fills, oldest first.")
    legs = serializers.SerializerMethodField(
        help_text="OCO orders: both legs (`limit`, then `stop`), each a full order; empty for other types."
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "fills", "legs"]
        read_only_fields = fields

    @extend_schema_field(FillSerializer(many=True))
    def get_fills(self, order: Order) -> list[dict[str, Any]]:
        fills = order.fills.select_related("order").order_by("created_at", "id")
        return FillSerializer(fills, many=True).data

    @extend_schema_field(OrderSerializer(many=True))
    def get_legs(self, order: Order) -> list[dict[str, Any]]:
        if order.oco_group is None:
            return []
        legs = Order.objects.filter(user_id=order.user_id, oco_group=order.oco_group)
        ordered = sorted(legs, key=lambda leg: (leg.oco_leg != OcoLeg.LIMIT, leg.pk))
        return OrderSerializer(ordered, many=True).data


# --- input ------------------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.INT)
class YourAccountField(serializers.PrimaryKeyRelatedField):
    """One of the caller's trading accounts by id; another user's id is simply not one of them."""

    default_error_messages = {
        "does_not_exist": "You have no trading account with id {pk_value}.",
        "incorrect_type": "A trading account id (an integer) is expected.",
    }

    def get_queryset(self):
        return accounts_for(self.context["request"].user)


class OrderPlaceSerializer(serializers.Serializer):
    account = YourAccountField(
        required=False,
        allow_null=True,
        help_text="The trading account to trade in (GET /accounts/). Leave it out for your paper account.",
    )
    symbol = serializers.CharField(max_length=32, help_text=SYMBOL_HELP)
    side = serializers.ChoiceField(choices=OrderSide.choices)
    type = serializers.ChoiceField(
        choices=OrderType.choices,
        help_text="`market`: quantity or quote_amount. `limit`: quantity, price. `stop_loss`, `take_profit`: "
        "quantity, stop_price. `stop_limit`: quantity, stop_price, price. `trailing_stop`: quantity and "
        "trailing_percent or trailing_amount. `oco`: quantity, price (the limit leg), stop_price (the stop leg's "
        "trigger), optionally stop_limit_price.",
    )
    time_in_force = serializers.ChoiceField(
        choices=TimeInForce.choices,
        default=TimeInForce.GTC,
        help_text="`gtc` (default) or `ioc` (fill what can fill now, expire the rest); `ioc` only for market and "
        "limit orders.",
    )
    quantity = AmountInputField(help_text='Base quantity, e.g. "0.015" BTC. Every type but market-by-value.')
    quote_amount = AmountInputField(
        help_text="Market orders only, instead of quantity: how much quote currency (USDT) to spend or receive."
    )
    price = AmountInputField(help_text="Limit price: limit and stop-limit orders, and an OCO's limit leg.")
    stop_price = AmountInputField(help_text="Trigger price: stop-loss, take-profit, stop-limit, an OCO's stop leg.")
    stop_limit_price = AmountInputField(
        help_text="OCO only, optional: the stop leg becomes a stop-limit at this price (a market order otherwise)."
    )
    trailing_percent = AmountInputField(
        max_digits=7, decimal_places=4, help_text="Trailing stops: how far (in %) the stop trails the best price."
    )
    trailing_amount = AmountInputField(help_text="Trailing stops, instead of trailing_percent: a distance in USDT.")
    client_order_id = serializers.RegexField(
        CLIENT_ORDER_ID_PATTERN,
        required=False,
        max_length=36,
        error_messages={"invalid": "Use 1 to 36 letters, digits, `_` or `-`."},
        help_text="Your id for this order (1 to 36 of A-Z a-z 0-9 _ -). Sending the same id with the same details "
        "again answers the same order (200) without placing another; with other details, 409. One is generated "
        "(`cv-...`) when left out.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """Nulls are as good as absent: the service's defaults are None."""
        return {name: value for name, value in data.items() if value is not None}


# --- errors -----------------------------------------------------------------------------------------
class PlaceInvalidSerializer(ErrorSerializer):
    """A 400: bad input (per-field `errors`), or `insufficient_funds` with the numbers."""

    asset = serializers.CharField(required=False, help_text="`insufficient_funds` only: the asset that is short.")
    required = serializers.CharField(required=False, help_text="`insufficient_funds` only: what the order needs.")
    available = serializers.CharField(required=False, help_text="`insufficient_funds` only: what is available.")


class OrderRejectedSerializer(ErrorSerializer):
    """A 422: the exchange refused the order. It is kept, `rejected`, with the reason."""

    order_id = serializers.IntegerField(help_text="The rejected order (GET /orders/{id}/ shows it).")
    reject_code = serializers.CharField(
        help_text="Why, for programs: `insufficient_balance`, `below_minimum`, `lot_size`, `price_filter`, "
        "`invalid_key`, `permission_denied`, `rate_limited`, `invalid_order`, `exchange_error`, ..."
    )


class ExchangeCallFailedSerializer(ErrorSerializer):
    """A 503: the exchange could not carry out the call now; nothing changed here."""

    reason = serializers.CharField(help_text="What the exchange said, for programs (e.g. `exchange_unavailable`).")
