"""What a trader can ask of their price alerts: one FilterSet for the alerts page and the API."""

from __future__ import annotations

import django_filters
import django_filters.fields

from exchanges.errors import UnknownSymbol
from exchanges.market.symbols import market_symbols, parse_symbol
from trading.models import AlertKind, AlertStatus, PriceAlert


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
