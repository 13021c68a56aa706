"""What the market API accepts (query parameters) and the shapes it answers, for the schema.

The answers themselves are built as plain lists and dicts in exchanges/api/market.py: a chart asks
for up to MARKET_MAX_CANDLES candles, and a serializer object per candle would cost more than the
query. The output serializers here only document those shapes (drf-spectacular reads them), and
tests/cryptovault/test_openapi_conformance.py checks the answers against them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.indicators import MAX_NAMES_LENGTH, NAMES_HELP
from exchanges.market.candles import TIMEFRAMES
from exchanges.market.feed import MAX_DEPTH

DEFAULT_TIMEFRAME = "1d"  # the one the offline data always holds
MAX_DAYS = 36_500
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

SOURCE_HELP = (
    "Where the numbers come from: the exchange's id (`binance`) when it answered live, `replay` when it could "
    "not be reached and the offline replay of recorded candles stands in, or the stored candles' exchange."
)
SOURCE_LABEL_HELP = 'The source in words, to show beside the numbers ("Binance (live)", "Replay of Binance candles…").'
SYMBOL_HELP = 'The market as ccxt writes it: "BTC/USDT".'
DECIMAL_HELP = "A decimal number, as a string (exact, as the exchange gives it)."


# --- query parameters ---------------------------------------------------------------------------------
@extend_schema_field(OpenApiTypes.STR)
class MarketTimeField(serializers.Field):
    """A moment as ISO 8601 (`2024-05-01`, `2024-05-01T12:00:00Z`; no offset means UTC) or as unix seconds
    (`1714521600`, what the chart's time axis uses), between 1970 and 2100."""

    default_error_messages = {
        "invalid": "Give a date or time as ISO 8601 (2024-05-01 or 2024-05-01T12:00:00Z) or as unix seconds.",
        "range": "Give a time between 1970 and 2100.",
    }

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        try:
            if text.isdigit() and len(text) <= 12:
                moment = datetime.fromtimestamp(int(text), tz=UTC)
            else:
                moment = parse_datetime(text)
                if moment is None:
                    self.fail("invalid")
                moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError, OSError):
            self.fail("invalid")
        if not EARLIEST <= moment <= LATEST:
            self.fail("range")
        return moment

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class CandlesQuerySerializer(serializers.Serializer):
    timeframe = serializers.ChoiceField(
        choices=TIMEFRAMES,
        default=DEFAULT_TIMEFRAME,
        help_text="Candle length. Timeframes not stored are aggregated from the coarsest stored one that divides "
        f"them. Default `{DEFAULT_TIMEFRAME}`.",
    )
    start = MarketTimeField(
        required=False,
        help_text="Candles opening at or after this time (UTC): ISO 8601 (`2024-05-01`, `2024-05-01T12:00:00Z`) or "
        "unix seconds.",
    )
    end = MarketTimeField(
        required=False,
        help_text="Candles opening at or before this time (UTC), as `start`; not before `start`.",
    )
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text="The last N days (up to `end` when given); not with `start`.",
    )
    names = serializers.CharField(
        required=False,
        max_length=MAX_NAMES_LENGTH,
        help_text="Optional indicators to compute on the same candles, answered in `indicators`. " + NAMES_HELP,
    )


class IndicatorsQuerySerializer(CandlesQuerySerializer):
    names = serializers.CharField(max_length=MAX_NAMES_LENGTH, help_text=NAMES_HELP)


class OrderBookQuerySerializer(serializers.Serializer):
    depth = serializers.IntegerField(
        default=20, min_value=1, max_value=MAX_DEPTH, help_text=f"Levels per side, 1 to {MAX_DEPTH} (default 20)."
    )


# --- answers (documentation of the plain dicts the views build) -------------------------------------------
def _decimal(help_text: str = DECIMAL_HELP, **options) -> serializers.CharField:
    return serializers.CharField(help_text=help_text, **options)


class SourcedSerializer(serializers.Serializer):
    source = serializers.CharField(help_text=SOURCE_HELP)
    source_label = serializers.CharField(help_text=SOURCE_LABEL_HELP)


class TickerSerializer(SourcedSerializer):
    """One market's last price and its last 24 hours."""

    symbol = serializers.CharField(help_text=SYMBOL_HELP)
    last = _decimal("The last traded price, in the quote currency (USDT), as a decimal string.")
    change_24h_pct = _decimal("The change over the last 24 hours, in percent (`-2.5` is 2.5% down), as a string.")
    high_24h = _decimal()
    low_24h = _decimal()
    volume_24h = _decimal("Volume over 24 hours in the base currency (BTC for BTC/USDT), as a string.")
    quote_volume_24h = _decimal("Volume over 24 hours in the quote currency (USDT), as a string.")
    updated_at = serializers.DateTimeField(help_text="When the source gave these numbers.")


class CandleSerializer(serializers.Serializer):
    """One candle, as lightweight-charts' candlestick series takes it (`volume` for a histogram series)."""

    time = serializers.IntegerField(help_text="Open time, unix seconds (UTC).")
    open = serializers.FloatField()
    high = serializers.FloatField()
    low = serializers.FloatField()
    close = serializers.FloatField()
    volume = serializers.FloatField(help_text="In the base currency.")


INDICATOR_VALUES = serializers.ListField(child=serializers.FloatField(allow_null=True))


@extend_schema_field(
    {
        "type": "object",
        "description": "Indicator key (`sma:20`, `macd:12:26:9`, `bbands:20:2`: the names asked for, with their "
        "defaults filled in) to its series: `value` for sma, ema and rsi; `macd`, `signal`, `histogram` for macd; "
        "`upper`, `middle`, `lower` for bbands. Each series is as long as the candles, index for index, with null "
        "while the indicator warms up.",
        "additionalProperties": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "number", "nullable": True}},
        },
    }
)
class IndicatorsField(serializers.DictField):
    """{key: {output: [number | null, ...]}}."""


class SeriesHeadSerializer(SourcedSerializer):
    symbol = serializers.CharField(help_text=SYMBOL_HELP)
    timeframe = serializers.ChoiceField(choices=TIMEFRAMES)


class CandlesSerializer(SeriesHeadSerializer):
    candles = CandleSerializer(many=True, help_text="Oldest first.")
    indicators = IndicatorsField(required=False, help_text="Only when `names` was given.")


class IndicatorsSerializer(SeriesHeadSerializer):
    time = serializers.ListField(
        child=serializers.IntegerField(), help_text="The candles' open times (unix seconds), oldest first."
    )
    indicators = IndicatorsField()


class OrderBookSerializer(SourcedSerializer):
    symbol = serializers.CharField(help_text=SYMBOL_HELP)
    bids = serializers.ListField(
        child=serializers.ListField(child=_decimal(), min_length=2, max_length=2),
        help_text="[price, amount] pairs as decimal strings, best (highest) price first.",
    )
    asks = serializers.ListField(
        child=serializers.ListField(child=_decimal(), min_length=2, max_length=2),
        help_text="[price, amount] pairs as decimal strings, best (lowest) price first.",
    )
    updated_at = serializers.DateTimeField(help_text="When the source gave this book.")
