"""The trade ticket's form: it shapes what was typed into `trading.services.orders.order_place`'s arguments.

Which fields an order type uses (TYPE_FIELDS) is said once here; the page shows and hides them from the
same map (static/js/trade.js reads it from a data attribute), and the form drops whatever a hidden field
still holds, so a price typed for a limit order and left behind when switching to market is not sent.
The form asks only for what the confirmation step needs to make sense (a price for a limit order, a
quantity); what makes an order acceptable (the market's minimum, step and tick, the funds) is the
service's, and its refusals land on these same fields.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms

from cryptovault.decimals import NOT_PLAIN, is_plain_decimal
from trading.filters import symbol_choices
from trading.models import OrderSide, OrderType, TimeInForce, TradingAccount
from trading.models.accounts import MONEY

AMOUNT_FIELDS = ("quantity", "quote_amount", "price", "stop_price", "stop_limit_price")
TRAILING_FIELDS = ("trailing_percent", "trailing_amount")

# The fields each order type takes, besides account, symbol, side and type (trading-contract "Order types").
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    OrderType.MARKET: ("quantity", "quote_amount", "time_in_force"),
    OrderType.LIMIT: ("quantity", "price", "time_in_force"),
    OrderType.STOP_LOSS: ("quantity", "stop_price"),
    OrderType.TAKE_PROFIT: ("quantity", "stop_price"),
    OrderType.STOP_LIMIT: ("quantity", "stop_price", "price"),
    OrderType.TRAILING_STOP: ("quantity", "trailing_percent", "trailing_amount"),
    OrderType.OCO: ("quantity", "price", "stop_price", "stop_limit_price"),
}
PRICE_NEEDED = {OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.OCO}
STOP_NEEDED = {OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.STOP_LIMIT, OrderType.OCO}

# What each optional field is called on the ticket and on the confirmation.
LABELS = {
    "quantity": "Quantity",
    "quote_amount": "Amount in USDT",
    "price": "Limit price",
    "stop_price": "Trigger price",
    "stop_limit_price": "Stop leg's limit price",
    "trailing_percent": "Trail by (%)",
    "trailing_amount": "Trail by (USDT)",
}
HELP = {
    "quantity": "In the market's base asset (BTC for BTC/USDT).",
    "quote_amount": "Market orders only: spend (buy) or receive (sell) this much USDT instead of a quantity.",
    "price": "The price the order trades at, or better. For an OCO, the limit leg's price.",
    "stop_price": "The price that triggers the order (for an OCO, the stop leg).",
    "stop_limit_price": "Optional: the stop leg rests as a limit order at this price instead of selling at market.",
    "trailing_percent": "The stop follows the best price by this percentage…",
    "trailing_amount": "…or by this many USDT (one of the two).",
}


class PlainDecimalField(forms.DecimalField):
    """Digits 0-9 only (cryptovault.decimals), at most what the ledger stores (38 digits, 18 decimals)."""

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str) and value.strip() and not is_plain_decimal(value):
            raise forms.ValidationError(NOT_PLAIN, code="invalid")
        return super().to_python(value)


def decimal_input(name: str) -> forms.DecimalField:
    return PlainDecimalField(
        max_digits=MONEY["max_digits"],
        decimal_places=MONEY["decimal_places"],
        label=LABELS[name],
        required=False,
        help_text=HELP[name],
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "data-order-field": name}),
    )


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TradingAccount) -> str:
        return f"{obj.name} (paper)" if obj.is_paper else obj.name


class TradeForm(forms.Form):
    """An order as typed on /trade/. `accounts` are the trader's active accounts (the read gate's rows)."""

    account = AccountChoiceField(queryset=TradingAccount.objects.none(), label="Account", empty_label=None)
    symbol = forms.ChoiceField(label="Market", choices=symbol_choices)
    side = forms.ChoiceField(label="Side", choices=OrderSide.choices, widget=forms.RadioSelect, initial="buy")
    type = forms.ChoiceField(label="Order type", choices=OrderType.choices, initial=OrderType.LIMIT)
    quantity = decimal_input("quantity")
    quote_amount = decimal_input("quote_amount")
    price = decimal_input("price")
    stop_price = decimal_input("stop_price")
    stop_limit_price = decimal_input("stop_limit_price")
    trailing_percent = decimal_input("trailing_percent")
    trailing_amount = decimal_input("trailing_amount")
    time_in_force = forms.ChoiceField(
        label="Time in force",
        choices=TimeInForce.choices,
        initial=TimeInForce.GTC,
        required=False,
        help_text="Immediate or cancel: whatever cannot fill at once is cancelled (market and limit orders).",
        widget=forms.Select(attrs={"data-order-field": "time_in_force"}),
    )
    # Made when the ticket is shown and carried through the confirmation: placing twice (a double click,
    # a resent form) finds the order already placed instead of placing another.
    client_order_id = forms.CharField(required=False, max_length=36, widget=forms.HiddenInput)

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        self.fields["type"].widget.attrs["data-order-type"] = ""
        self.fields["symbol"].widget.attrs["data-order-symbol"] = ""
        self.fields["account"].widget.attrs["data-order-account"] = ""

    @staticmethod
    def type_fields_json() -> str:
        """TYPE_FIELDS for static/js/trade.js, which shows a type's fields and hides the rest."""
        return json.dumps({kind: list(names) for kind, names in TYPE_FIELDS.items()})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("type")
        if kind not in TYPE_FIELDS:
            return data
        used = TYPE_FIELDS[kind]
        for name in (*AMOUNT_FIELDS, *TRAILING_FIELDS):
            if name not in used:
                data[name] = None
        if "time_in_force" not in used or not data.get("time_in_force"):
            data["time_in_force"] = TimeInForce.GTC
        for name in used:
            value = data.get(name)
            if isinstance(value, Decimal) and value <= 0:
                self.add_error(name, f"Enter a {LABELS[name].lower()} greater than 0.")
        self._require(kind, data)
        data["client_order_id"] = data.get("client_order_id") or None
        return data

    def _require(self, kind: str, data: dict[str, Any]) -> None:
        """What the confirmation cannot be shown without; the service checks the same and more."""
        if kind == OrderType.MARKET:
            if data.get("quantity") is None and data.get("quote_amount") is None:
                self.add_error("quantity", "Enter a quantity, or an amount in USDT.")
            elif data.get("quantity") is not None and data.get("quote_amount") is not None:
                self.add_error("quote_amount", "Enter a quantity or an amount in USDT, not both.")
        elif data.get("quantity") is None and "quantity" not in self.errors:
            self.add_error("quantity", "Enter a quantity.")
        if kind in PRICE_NEEDED and data.get("price") is None and "price" not in self.errors:
            self.add_error("price", "Enter a limit price.")
        if kind in STOP_NEEDED and data.get("stop_price") is None and "stop_price" not in self.errors:
            self.add_error("stop_price", "Enter the trigger price.")
        if kind == OrderType.TRAILING_STOP:
            percent, amount = data.get("trailing_percent"), data.get("trailing_amount")
            if percent is None and amount is None and not self.errors.get("trailing_percent"):
                self.add_error("trailing_percent", "Enter how far the stop trails: a percentage or an amount.")
            elif percent is not None and amount is not None:
                self.add_error("trailing_amount", "Trail by a percentage or by an amount, not both.")

    def order_arguments(self) -> dict[str, Any]:
        """The cleaned form as `order_place`'s keyword arguments (account, symbol, side, type, amounts...)."""
        data = self.cleaned_data
        names = ("account", "symbol", "side", "type", *AMOUNT_FIELDS, *TRAILING_FIELDS, "time_in_force")
        arguments = {name: data.get(name) for name in names}
        arguments["client_order_id"] = data.get("client_order_id")
        return arguments

    def carried(self) -> list[tuple[str, str]]:
        """(name, value) of every field the confirmation carries in hidden inputs, as they were typed."""
        data = self.cleaned_data
        pairs: list[tuple[str, str]] = [
            ("account", str(data["account"].pk)),
            ("symbol", data["symbol"]),
            ("side", data["side"]),
            ("type", data["type"]),
            ("time_in_force", data["time_in_force"]),
            ("client_order_id", data.get("client_order_id") or ""),
        ]
        for name in (*AMOUNT_FIELDS, *TRAILING_FIELDS):
            if data.get(name) is not None:
                pairs.append((name, str(data[name])))
        return pairs
