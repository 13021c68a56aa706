"""/api/v1/market/: the markets we follow, their tickers, candles, indicators and order books.

Public market data behind the API's usual door: signed-in people, and personal API keys with the
`read` scope (`api_key_scopes = {"GET": "read"}`). `{symbol}` is the market with a dash for its slash
("BTC-USDT"; "btcusdt" and "BTC_USDT" work too); a market outside settings.MARKET_SYMBOLS is a 400
`unknown_symbol`. Every answer says where its numbers come from (`source`, `source_label`): the exchange
live, or the offline replay when it cannot be reached.

Candles and indicators are answered as plain lists and dicts (exchanges/api/market_serializers.py only
documents them): up to MARKET_MAX_CANDLES rows, where a serializer object per row would cost more than
reading them. Candles are objects a lightweight-charts candlestick series takes as they are; indicator
series are arrays aligned index for index with the candles, null during warm-up.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from analytics.indicators import IndicatorSpec, compute_indicators, parse_indicators
from cryptovault.api.schema import error_response
from cryptovault.api.views import ServiceApiView
from exchanges.api.market_serializers import (
    CandlesQuerySerializer,
    CandlesSerializer,
    IndicatorsQuerySerializer,
    IndicatorsSerializer,
    OrderBookQuerySerializer,
    OrderBookSerializer,
    TickerSerializer,
)
from exchanges.market.candles import DEFAULT_BARS, Bar, CandleSeries, candles_for
from exchanges.market.feed import order_book, ticker, tickers
from exchanges.market.symbols import parse_symbol

TAGS = ["market"]
SYMBOL = OpenApiParameter(
    "symbol",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description='The market, its slash written as a dash: "BTC-USDT" (also "btc-usdt", "BTCUSDT"). '
    "GET /api/v1/market/tickers/ lists the ones we follow.",
)
UNKNOWN_SYMBOL = error_response(
    400,
    "A market we do not follow (`unknown_symbol`, in `errors.symbol`), or bad query parameters (per-field `errors`).",
)
# feed.MarketUnavailable: neither the exchange nor the replay has the market (one added to MARKET_SYMBOLS
# that the shipped candles do not cover, while the exchange is down).
UNAVAILABLE = {
    503: error_response(
        503, "The exchange cannot be reached and the replay has no candles for this market (`market_unavailable`)."
    )
}
RANGE_HELP = (
    " Choose the candles with `start` and `end` (inclusive open times), or `days` (the last N days); without `end` "
    "they run to the latest stored candle, and with neither `start` nor `days` they are the latest "
    f"{DEFAULT_BARS}. At most MARKET_MAX_CANDLES (50,000 by default) per request: more is a 400 naming the "
    "parameter to narrow. A timeframe finer than any stored candles is a 400 on `timeframe`, a market with no "
    "stored candles a 400 on `symbol`."
)


class MarketApiView(ServiceApiView):
    """Reads only: `read` keys may call every market endpoint."""

    api_key_scopes = {"GET": "read"}

    def symbol(self) -> str:
        return parse_symbol(self.kwargs["symbol"])

    def query(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        """The query string, validated: a 400 with per-field messages otherwise."""
        serializer = serializer_class(data=self.request.query_params, context={"request": self.request, "view": self})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def series(self, market: str, query: dict[str, Any]) -> CandleSeries:
        return candles_for(
            symbol=market,
            timeframe=query["timeframe"],
            start=query.get("start"),
            end=query.get("end"),
            days=query.get("days"),
        )


def series_head(series: CandleSeries) -> dict[str, Any]:
    return {
        "symbol": series.symbol,
        "timeframe": series.timeframe,
        "source": series.source,
        "source_label": series.source_label,
    }


def candle_rows(bars: list[Bar]) -> list[dict[str, float]]:
    """What a candlestick series draws as is: {time (unix s), open, high, low, close, volume}."""
    return [
        {"time": bar.time, "open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}
        for bar in bars
    ]


def indicators_of(specs: list[IndicatorSpec], series: CandleSeries) -> dict[str, dict[str, list[float | None]]]:
    """The indicators asked for, on these candles' closes."""
    return compute_indicators(specs, series.closes())


class TickerListView(MarketApiView):
    """The ten majors (settings.MARKET_SYMBOLS): a fixed list, never paged."""

    @extend_schema(
        summary="Tickers of the markets we follow",
        description="Last price and 24-hour change, high, low and volumes for every market in MARKET_SYMBOLS, in "
        "that order; not paged. Cached for MARKET_TICKERS_CACHE_SECONDS (60 s); when the exchange cannot be reached "
        "the offline replay answers instead and each ticker's `source` says so. An API key needs `read`.",
        responses={200: TickerSerializer(many=True)},
        tags=TAGS,
    )
    def get(self, request):
        return Response([item.as_dict() for item in tickers()])


class MarketDetailView(MarketApiView):
    @extend_schema(
        summary="One market's ticker",
        description="Last price, 24-hour change (percent), high, low, base and quote volumes, where they come from and "
        "when. Cached for MARKET_DETAIL_CACHE_SECONDS (5 minutes). An API key needs `read`.",
        parameters=[SYMBOL],
        responses={200: TickerSerializer, 400: UNKNOWN_SYMBOL, **UNAVAILABLE},
        tags=TAGS,
    )
    def get(self, request, symbol: str):
        return Response(ticker(self.symbol()).as_dict())


class CandlesView(MarketApiView):
    @extend_schema(
        summary="A market's candles",
        description="OHLCV candles, oldest first, as lightweight-charts takes them (`time` in unix seconds). "
        "Stored candles of the timeframe, or aggregated from the coarsest stored timeframe that divides it."
        + RANGE_HELP
        + " With `names`, the indicators of those candles come in the same answer (as in GET indicators/). "
        "An API key needs `read`.",
        parameters=[SYMBOL, CandlesQuerySerializer],
        responses={200: CandlesSerializer, 400: UNKNOWN_SYMBOL},
        tags=TAGS,
    )
    def get(self, request, symbol: str):
        market = self.symbol()
        query = self.query(CandlesQuerySerializer)
        # Bad names are a 400 before any candle is read.
        specs = parse_indicators(query["names"]) if "names" in query else None
        series = self.series(market, query)
        body = {**series_head(series), "candles": candle_rows(series.bars)}
        if specs is not None:
            body["indicators"] = indicators_of(specs, series)
        return Response(body)


class IndicatorsView(MarketApiView):
    @extend_schema(
        summary="Indicators on a market's candles",
        description="SMA, EMA, RSI (Wilder), MACD and Bollinger bands computed on the closes of the candles GET "
        "candles/ answers for the same parameters: `time` holds the candles' open times and every series is as "
        "long, index for index, with null while the indicator warms up. Definitions and results are TA-Lib's, "
        "except that a window with no price movement has an RSI of 50." + RANGE_HELP + " An API key needs `read`.",
        parameters=[SYMBOL, IndicatorsQuerySerializer],
        responses={200: IndicatorsSerializer, 400: UNKNOWN_SYMBOL},
        tags=TAGS,
    )
    def get(self, request, symbol: str):
        market = self.symbol()
        query = self.query(IndicatorsQuerySerializer)
        specs = parse_indicators(query["names"])  # bad names are a 400 before any candle is read
        series = self.series(market, query)
        return Response(
            {
                **series_head(series),
                "time": [bar.time for bar in series.bars],
                "indicators": indicators_of(specs, series),
            }
        )


class OrderBookView(MarketApiView):
    @extend_schema(
        summary="A market's order book",
        description="The best `depth` bids and asks, as [price, amount] decimal strings. From the exchange live, "
        "or a book built around the replayed price when it cannot be reached (`source` says which). "
        "An API key needs `read`.",
        parameters=[SYMBOL, OrderBookQuerySerializer],
        responses={200: OrderBookSerializer, 400: UNKNOWN_SYMBOL, **UNAVAILABLE},
        tags=TAGS,
    )
    def get(self, request, symbol: str):
        market = self.symbol()
        depth = self.query(OrderBookQuerySerializer)["depth"]
        return Response(order_book(market, depth=depth).as_dict())
