"""What a trader can ask of their alerts, orders, trades and transactions: one FilterSet per list,
shared by the page (its filter form) and the API (DRF's DjangoFilterBackend), so a page's query
string asks the API the same question.

Bad input is never silently dropped: an unknown market, side, type, status or kind, an account that
is not yours, a day that is not one, is a form error on the page and a 400 with per-field messages in
the API. Days (`created_after`, `created_before`) are whole days in the person's time zone (UTC for
those without one), as the activity list takes them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import django_filters
import django_filters.fields
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet

from exchanges.errors import UnknownSymbol
from exchanges.market.symbols import market_symbols, parse_symbol
from trading.models import (
    OPEN_STATUSES,
    AlertKind,
    AlertStatus,
    EntryKind,
    Fill,
    LedgerEntry,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    PriceAlert,
    TradingAccount,
    Withdrawal,
    WithdrawalStatus,
)

DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the browser's date picker


def symbol_choices() -> list[tuple[str, str]]:
    """The followed markets (settings.MARKET_SYMBOLS), read when asked so a changed setting shows."""
    return [(symbol, symbol) for symbol in market_symbols()]


class SymbolChoiceField(django_filters.fields.ChoiceField):
    """A followed market in any spelling the rest of the API takes (BTC-USDT, btcusdt, BTC/USDT)."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return parse_symbol(value) if value else value
        except UnknownSymbol:
            return value  # left as typed: the choice check names it


class SymbolFilter(django_filters.ChoiceFilter):
    field_class = SymbolChoiceField


class AssetField(forms.CharField):
    """An asset code as the ledger stores it (BTC, usdt -> USDT); anything else is refused."""

    default_validators = [
        RegexValidator(r"^[A-Z0-9]{1,16}$", "Enter an asset code such as BTC or USDT (letters and digits).")
    ]

    def to_python(self, value: Any) -> str:
        return (super().to_python(value) or "").strip().upper()


class AssetFilter(django_filters.CharFilter):
    field_class = AssetField


def your_accounts(request: Any) -> QuerySet[TradingAccount]:
    """The accounts an `account` filter may name: the person's own (another's id is an invalid choice)."""
    return TradingAccount.objects.visible_to(getattr(request, "user", None))


def account_filter(field_name: str = "account") -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        field_name=field_name,
        queryset=your_accounts,
        empty_label="Any account",
        label="Account",
        help_text="One of your trading accounts, by id.",
    )


class PriceAlertFilterSet(django_filters.FilterSet):
    """Narrows alerts already behind the read gate."""

    symbol = SymbolFilter(
        choices=symbol_choices,
        empty_label="Any market",
        label="Market",
        help_text="A market, e.g. `BTC/USDT` (or `BTC-USDT`).",
    )
    kind = django_filters.ChoiceFilter(
        choices=AlertKind.choices,
        empty_label="Any kind",
        label="Kind",
        help_text="`above`, `below`, `change_up` or `change_down`.",
    )
    status = django_filters.ChoiceFilter(
        choices=AlertStatus.choices,
        empty_label="Any status",
        label="Status",
        help_text="`active`, `fired` or `cancelled`.",
    )

    class Meta:
        model = PriceAlert
        fields = ["symbol", "kind", "status"]


class CreatedRangeFilterSet(django_filters.FilterSet):
    """`created_after` / `created_before`: whole days in the person's time zone, on `created_at`."""

    created_after = django_filters.DateFilter(
        method="filter_created_after",
        label="From",
        widget=DAY_INPUT,
        help_text="On or after this day (YYYY-MM-DD, in your time zone).",
    )
    created_before = django_filters.DateFilter(
        method="filter_created_before",
        label="To",
        widget=DAY_INPUT,
        help_text="On or before this day (YYYY-MM-DD, in your time zone).",
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.timezone: tzinfo = getattr(getattr(request, "user", None), "timezone", None) or UTC

    def filter_created_after(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(created_at__gte=self._midnight(value))

    def filter_created_before(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        if value == date.max:
            return queryset  # the last day the calendar has: nothing comes after it
        return queryset.filter(created_at__lt=self._midnight(value + timedelta(days=1)))

    def _midnight(self, day: date) -> datetime:
        """The start of `day` in the person's time zone (a range on the indexed column, not a cast)."""
        try:
            return datetime.combine(day, time.min, tzinfo=self.timezone).astimezone(UTC)
        except OverflowError:  # 0001-01-01 east of Greenwich starts before the calendar does
            return datetime.min.replace(tzinfo=UTC)


OPEN_CHOICES = [("true", "Open (still working)"), ("false", "Closed (filled, cancelled, rejected, expired)")]


class OrderFilterSet(CreatedRangeFilterSet):
    """Narrows orders already behind the read gate (the open orders page, the history, the API)."""

    account = account_filter()
    symbol = SymbolFilter(
        choices=symbol_choices, empty_label="Any market", label="Market", help_text="e.g. `BTC/USDT` or `BTC-USDT`."
    )
    side = django_filters.ChoiceFilter(
        choices=OrderSide.choices, empty_label="Buy or sell", label="Side", help_text="`buy` or `sell`."
    )
    type = django_filters.ChoiceFilter(
        choices=OrderType.choices,
        empty_label="Any type",
        label="Type",
        help_text="`market`, `limit`, `stop_loss`, `take_profit`, `stop_limit`, `trailing_stop` or `oco`.",
    )
    status = django_filters.ChoiceFilter(
        choices=OrderStatus.choices,
        empty_label="Any status",
        label="Status",
        help_text="`pending`, `open`, `partially_filled`, `filled`, `cancelled`, `rejected` or `expired`.",
    )
    open = django_filters.ChoiceFilter(
        choices=OPEN_CHOICES,
        method="filter_open",
        empty_label="Open or closed",
        label="Open",
        help_text="`true`: still working (pending, open, partially filled); `false`: done.",
    )

    class Meta:
        model = Order
        fields = ["account", "symbol", "side", "type", "status", "open", "created_after", "created_before"]

    def filter_open(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        if value == "true":
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)


class TransactionFilterSet(CreatedRangeFilterSet):
    """Narrows ledger entries already behind the read gate (the transactions page, its CSV, the API)."""

    account = account_filter()
    asset = AssetFilter(label="Asset", help_text="An asset code, e.g. `BTC` or `USDT`.")
    kind = django_filters.ChoiceFilter(
        choices=EntryKind.choices,
        empty_label="Any kind",
        label="Kind",
        help_text="`deposit`, `withdrawal`, `trade`, `fee`, `adjustment` or `reset`.",
    )

    class Meta:
        model = LedgerEntry
        fields = ["account", "asset", "kind", "created_after", "created_before"]


class FillFilterSet(CreatedRangeFilterSet):
    """Narrows trades (fills) already behind the read gate (the trades CSV and the API)."""

    account = account_filter()
    symbol = SymbolFilter(
        field_name="order__symbol",
        choices=symbol_choices,
        empty_label="Any market",
        label="Market",
        help_text="e.g. `BTC/USDT` or `BTC-USDT`.",
    )
    side = django_filters.ChoiceFilter(
        field_name="order__side",
        choices=OrderSide.choices,
        empty_label="Buy or sell",
        label="Side",
        help_text="`buy` or `sell`.",
    )

    class Meta:
        model = Fill
        fields = ["account", "symbol", "side", "created_after", "created_before"]


class WithdrawalFilterSet(CreatedRangeFilterSet):
    """Narrows withdrawals already behind the read gate (the wallet page's list and the API)."""

    account = account_filter()
    asset = AssetFilter(label="Asset", help_text="An asset code, e.g. `BTC` or `USDT`.")
    status = django_filters.ChoiceFilter(
        choices=WithdrawalStatus.choices,
        empty_label="Any status",
        label="Status",
        help_text="`pending` (can be cancelled), `submitted`, `completed`, `failed` or `cancelled`.",
    )

    class Meta:
        model = Withdrawal
        fields = ["account", "asset", "status", "created_after", "created_before"]
