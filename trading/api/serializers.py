"""What the alerts API accepts and answers.

The input serializer only shapes the request (types, and the note's length bounded by the
model's own constant); which markets are followed and what thresholds are acceptable is decided by
the service and the model, whose errors come back as per-field 400s (`unknown_symbol` on `symbol`).
"""

from __future__ import annotations

from django.utils.functional import lazy
from rest_framework import serializers

from exchanges.market.symbols import market_symbols
from trading.models import MAX_PERCENT, MAX_PRICE, NOTE_MAX_LENGTH, AlertKind, AlertStatus, PriceAlert, plain


def _symbol_help() -> str:
    return (
        "A followed market: "
        + ", ".join(f"`{symbol}`" for symbol in market_symbols())
        + ". `BTC-USDT`, `btc-usdt` and `BTCUSDT` are read as `BTC/USDT`."
    )


SYMBOL_HELP = lazy(_symbol_help, str)()


class PriceAlertSerializer(serializers.ModelSerializer):
    """One alert, and what fired it: the price, the 24 h change and the source of that tick."""

    kind = serializers.ChoiceField(choices=AlertKind.choices)
    # A plain string, not an enum: drf-spectacular would give `status` (also a connection's) two enum names.
    status = serializers.CharField(
        help_text="One of " + ", ".join(f"`{value}`" for value in AlertStatus.values) + "; a fired alert stays fired."
    )
    threshold = serializers.DecimalField(max_digits=38, decimal_places=18)
    fired_price = serializers.DecimalField(max_digits=38, decimal_places=18, allow_null=True)
    fired_change_pct = serializers.DecimalField(max_digits=38, decimal_places=18, allow_null=True)
    fired_source = serializers.CharField(help_text="Where the firing price came from: `binance`, `replay`, ...")
    fired_source_label = serializers.CharField(
        help_text="The source in words; a replay of stored candles says so (e.g. `Replay of Binance candles ...`)."
    )

    class Meta:
        model = PriceAlert
        fields = [
            "id",
            "symbol",
            "kind",
            "threshold",
            "status",
            "note",
            "created_at",
            "cancelled_at",
            "fired_at",
            "fired_price",
            "fired_change_pct",
            "fired_source",
            "fired_source_label",
        ]
        read_only_fields = fields


class PriceAlertCreateSerializer(serializers.Serializer):
    symbol = serializers.CharField(max_length=32, help_text=SYMBOL_HELP)
    kind = serializers.ChoiceField(
        choices=AlertKind.choices,
        help_text="`above` / `below`: the last price reaches the threshold; `change_up` / `change_down`: the 24 h "
        "change is at least +threshold% / at most -threshold%.",
    )
    threshold = serializers.DecimalField(
        max_digits=38,
        decimal_places=18,
        help_text=f"Greater than 0: a price in the quote currency (at most {plain(MAX_PRICE)}) for `above` and "
        f"`below`, a percentage (at most {plain(MAX_PERCENT)}) for the change kinds.",
    )
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Printable text, sent with the notification.",
    )
