"""The market API as an integration or a chart uses it: tickers, one market, candles, indicators and
the order book, read with a JWT and with a `read` API key, live from the exchange (the emulator,
through real ccxt) and from the offline replay once the exchange is down.

Candles are two years of real BTC/USDT daily candles (2023-2024), imported by the importer from the
slice kept in tests/analytics/data/ (which ends with 2025-01-01, the row an import leaves out as
possibly still open), so the numbers checked here are the exchange's own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from analytics.indicators import bbands, ema, macd, rsi, sma
from exchanges.market.candles import import_candles_csv, load_offline_candles
from tests.factories import TEST_ACTOR
from tests.routes import openapi_schema

MARKET = "/api/v1/market/"
TICKERS = f"{MARKET}tickers/"
BTC = f"{MARKET}BTC-USDT/"
BTC_DAILY = Path(__file__).resolve().parents[2] / "analytics" / "data" / "BTCUSDT_1d_2023-2024.csv.gz"
FIRST_DAY = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
LAST_DAY = int(datetime(2024, 12, 31, tzinfo=UTC).timestamp())
DAY = 86_400
TICKER_FIELDS = {
    "symbol",
    "last",
    "change_24h_pct",
    "high_24h",
    "low_24h",
    "volume_24h",
    "quote_volume_24h",
    "source",
    "source_label",
    "updated_at",
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc_daily() -> int:
    """731 real daily candles of BTC/USDT, 2023-01-01 to 2024-12-31, stored."""
    return import_candles_csv(path=BTC_DAILY, symbol="BTC/USDT", timeframe="1d")


@pytest.fixture
def reader(owner) -> APIClient:
    """An integration holding the owner's personal API key with only the `read` scope."""
    _, raw_key = api_key_create(actor=TEST_ACTOR, user=owner, name="Chart reader", scopes=["read"])
    return APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")


def the_range(**params) -> dict:
    """All of the stored slice, whatever today's date."""
    return {"timeframe": "1d", "start": "2023-01-01", "end": "2024-12-31", **params}


# --- tickers and one market -----------------------------------------------------------------------------
def test_the_tickers_are_the_ten_majors_live_from_the_exchange_with_exact_decimals(owner_jwt, exchange_emulator):
    exchange_emulator.set_price("binance", "BTC", "65000")
    answer = owner_jwt.get(TICKERS)

    assert answer.status_code == 200
    body = answer.json()
    assert [row["symbol"] for row in body] == settings.MARKET_SYMBOLS
    assert all(set(row) == TICKER_FIELDS for row in body)
    btc = body[0]
    assert Decimal(btc["last"]) == Decimal("65000") and isinstance(btc["last"], str), "exact, as a decimal string"
    assert {row["source"] for row in body} == {"binance"}
    assert all("live" in row["source_label"].lower() for row in body)


def test_one_market_answers_its_ticker_under_every_spelling_of_its_symbol(owner_jwt, exchange_emulator):
    exchange_emulator.set_price("binance", "ETH", "3210.5")
    answers = [owner_jwt.get(f"{MARKET}{spelling}/") for spelling in ("ETH-USDT", "eth-usdt", "ETHUSDT")]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    body = answers[0].json()
    assert set(body) == TICKER_FIELDS
    assert body["symbol"] == "ETH/USDT" and Decimal(body["last"]) == Decimal("3210.5")
    assert Decimal(body["low_24h"]) <= Decimal(body["last"]) <= Decimal(body["high_24h"])
    assert body["source"] == "binance" and body["updated_at"]


def test_when_the_exchange_is_down_every_answer_says_its_prices_come_from_the_replay(owner_jwt, exchange_emulator):
    exchange_emulator.stop()
    tickers = owner_jwt.get(TICKERS).json()
    detail = owner_jwt.get(BTC).json()
    book = owner_jwt.get(f"{BTC}orderbook/").json()

    assert len(tickers) == len(settings.MARKET_SYMBOLS)
    for answer in [*tickers, detail, book]:
        assert answer["source"] == "replay", answer
        assert "replay" in answer["source_label"].lower(), "the label does not pretend to be live"
    assert Decimal(detail["last"]) > 0 and book["bids"] and book["asks"]


# --- candles --------------------------------------------------------------------------------------------
def test_candles_are_the_stored_ones_oldest_first_as_a_chart_draws_them(owner_jwt, btc_daily):
    assert btc_daily == 731
    answer = owner_jwt.get(f"{BTC}candles/", the_range())

    assert answer.status_code == 200
    body = answer.json()
    assert (body["symbol"], body["timeframe"]) == ("BTC/USDT", "1d")
    assert body["source"] and body["source_label"]
    candles = body["candles"]
    assert len(candles) == 731
    assert candles[0] == {
        "time": FIRST_DAY,
        "open": 16541.77,
        "high": 16628.0,
        "low": 16499.01,
        "close": 16616.75,
        "volume": 96925.41374,
    }
    assert candles[-1]["time"] == LAST_DAY and candles[-1]["close"] == 93576.0
    assert [row["time"] for row in candles] == list(range(FIRST_DAY, LAST_DAY + 1, DAY))


def test_candles_are_chosen_by_start_and_end_in_iso_or_unix_seconds_or_by_days(owner_jwt, btc_daily):
    iso = owner_jwt.get(f"{BTC}candles/", the_range(start="2024-03-01", end="2024-03-10T00:00:00Z")).json()
    unix = owner_jwt.get(f"{BTC}candles/", the_range(start=FIRST_DAY + 10 * DAY, end=FIRST_DAY + 19 * DAY)).json()
    last_week = owner_jwt.get(f"{BTC}candles/", {"timeframe": "1d", "days": 7, "end": "2024-12-31"}).json()

    assert len(iso["candles"]) == 10 and iso["candles"][0]["time"] == int(datetime(2024, 3, 1, tzinfo=UTC).timestamp())
    assert [row["time"] for row in unix["candles"]] == list(range(FIRST_DAY + 10 * DAY, FIRST_DAY + 20 * DAY, DAY))
    assert last_week["candles"][-1]["time"] == LAST_DAY and 7 <= len(last_week["candles"]) <= 8


def test_weekly_candles_are_aggregated_from_the_stored_days(owner_jwt, btc_daily):
    days = owner_jwt.get(f"{BTC}candles/", the_range()).json()["candles"]
    weeks = owner_jwt.get(f"{BTC}candles/", the_range(timeframe="1w")).json()["candles"]

    assert 104 <= len(weeks) <= 106
    week = weeks[1]
    inside = [day for day in days if week["time"] <= day["time"] < week["time"] + 7 * DAY]
    assert len(inside) == 7
    assert week["open"] == inside[0]["open"] and week["close"] == inside[-1]["close"]
    assert week["high"] == max(day["high"] for day in inside) and week["low"] == min(day["low"] for day in inside)
    assert week["volume"] == pytest.approx(sum(day["volume"] for day in inside))


def test_the_shipped_offline_candles_serve_a_chart_in_every_timeframe_they_can(owner_jwt, settings):
    settings.MARKET_SYMBOLS = ["LINK/USDT"]  # one major's shipped files: the whole fixture takes seconds to load
    assert load_offline_candles() > 0

    def candles(timeframe: str, days: int):
        return owner_jwt.get(f"{MARKET}LINK-USDT/candles/", {"timeframe": timeframe, "days": days})

    daily, four_hourly, weekly = candles("1d", 30).json(), candles("4h", 2).json(), candles("1w", 70).json()
    assert len(daily["candles"]) == 30 and len(four_hourly["candles"]) == 12 and len(weekly["candles"]) == 10
    assert all(row["low"] <= min(row["open"], row["close"]) <= row["high"] for row in daily["candles"])
    assert daily["source"] == "binance" and "Binance spot market data" in daily["source_label"]
    assert "aggregated from 1d" in weekly["source_label"], "the label says the weeks were built from days"

    hourly = candles("1h", 1)
    assert hourly.status_code == 400 and "4h" in hourly.json()["errors"]["timeframe"][0], "nothing finer is stored"


# --- indicators -----------------------------------------------------------------------------------------
def test_indicators_line_up_with_the_candles_and_equal_the_analytics_functions(owner_jwt, btc_daily):
    candles = owner_jwt.get(f"{BTC}candles/", the_range()).json()["candles"]
    answer = owner_jwt.get(f"{BTC}indicators/", the_range(names="sma:20,ema:50,rsi:14,macd,bbands:20:2"))

    assert answer.status_code == 200
    body = answer.json()
    assert body["time"] == [row["time"] for row in candles]
    assert body["source"] and body["source_label"]
    series = body["indicators"]
    assert list(series) == ["sma:20", "ema:50", "rsi:14", "macd:12:26:9", "bbands:20:2"]

    closes = np.array([row["close"] for row in candles])
    expected = {
        ("sma:20", "value"): sma(closes, 20),
        ("ema:50", "value"): ema(closes, 50),
        ("rsi:14", "value"): rsi(closes, 14),
        **{
            ("macd:12:26:9", name): values
            for name, values in zip(("macd", "signal", "histogram"), macd(closes), strict=True)
        },
        **{
            ("bbands:20:2", name): values
            for name, values in zip(("upper", "middle", "lower"), bbands(closes), strict=True)
        },
    }
    for (key, output), values in expected.items():
        answered = series[key][output]
        assert len(answered) == len(candles), key
        assert answered == [None if np.isnan(value) else value for value in values.tolist()], (key, output)
    assert series["sma:20"]["value"][:19] == [None] * 19 and series["sma:20"]["value"][19] is not None


def test_candles_with_names_carry_the_same_indicators(owner_jwt, btc_daily):
    params = the_range(names="rsi,bbands")
    with_candles = owner_jwt.get(f"{BTC}candles/", params).json()
    alone = owner_jwt.get(f"{BTC}indicators/", params).json()

    assert with_candles["indicators"] == alone["indicators"]
    assert list(alone["indicators"]) == ["rsi:14", "bbands:20:2"]
    assert "indicators" not in owner_jwt.get(f"{BTC}candles/", the_range()).json()


# --- the order book -------------------------------------------------------------------------------------
def test_the_order_book_has_the_depth_asked_for_best_prices_first(owner_jwt, exchange_emulator):
    body = owner_jwt.get(f"{BTC}orderbook/", {"depth": 5}).json()

    assert body["symbol"] == "BTC/USDT" and body["source"] == "binance" and body["source_label"]
    bids = [(Decimal(price), Decimal(amount)) for price, amount in body["bids"]]
    asks = [(Decimal(price), Decimal(amount)) for price, amount in body["asks"]]
    assert 1 <= len(bids) <= 5 and 1 <= len(asks) <= 5
    assert [price for price, _ in bids] == sorted((price for price, _ in bids), reverse=True)
    assert [price for price, _ in asks] == sorted(price for price, _ in asks)
    assert bids[0][0] < asks[0][0], "the best bid is below the best ask"
    assert len(owner_jwt.get(f"{BTC}orderbook/").json()["bids"]) <= 20, "20 levels by default"


# --- bad input --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["", "candles/", "indicators/?names=sma:20", "orderbook/"])
def test_a_market_we_do_not_follow_is_a_400_unknown_symbol_on_every_endpoint(owner_jwt, action):
    answer = owner_jwt.get(f"{MARKET}SHIB-USDT/{action}")
    assert answer.status_code == 400
    assert answer.json()["code"] == "unknown_symbol" and list(answer.json()["errors"]) == ["symbol"]


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("candles/", {"timeframe": "2h"}, "timeframe"),
        ("candles/", {"start": "yesterday"}, "start"),
        ("candles/", {"end": "2024-13-45"}, "end"),
        ("candles/", {"start": "1800-01-01"}, "start"),
        ("candles/", {"days": "0"}, "days"),
        ("candles/", {"days": "many"}, "days"),
        ("candles/", {"names": "sma"}, "names"),
        ("indicators/", {"names": "sma:20,vwap"}, "names"),
        ("indicators/", {"names": "rsi:1000"}, "names"),
        ("indicators/", {}, "names"),
        ("orderbook/", {"depth": "0"}, "depth"),
        ("orderbook/", {"depth": "5000"}, "depth"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(owner_jwt, endpoint, params, field):
    answer = owner_jwt.get(f"{BTC}{endpoint}", params)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and field in answer.json()["errors"], answer.json()


def test_the_reason_for_a_bad_indicator_name_quotes_it(owner_jwt):
    answer = owner_jwt.get(f"{BTC}indicators/", {"names": "sma:20,vwap:14"})
    assert answer.json()["errors"]["names"] == ["`vwap:14`: unknown indicator; use sma, ema, rsi, macd, bbands."]


def test_a_start_after_the_end_is_a_400(owner_jwt, btc_daily):
    answer = owner_jwt.get(f"{BTC}candles/", {"timeframe": "1d", "start": "2024-06-01", "end": "2024-05-01"})
    assert answer.status_code == 400
    assert {"start", "end"} & set(answer.json()["errors"]), answer.json()


def test_more_candles_than_the_limit_is_a_400_that_says_to_narrow_the_range(owner_jwt, btc_daily, settings):
    settings.MARKET_MAX_CANDLES = 100
    refused = owner_jwt.get(f"{BTC}candles/", the_range())
    assert refused.status_code == 400 and refused.json()["errors"], refused.json()
    assert owner_jwt.get(f"{BTC}indicators/", the_range(names="sma:20")).status_code == 400
    assert len(owner_jwt.get(f"{BTC}candles/", the_range(start="2024-12-01")).json()["candles"]) == 31


# --- what the docs promise -----------------------------------------------------------------------------
def documented(path: str) -> dict:
    """The 200 answer's schema of GET `path` in the served OpenAPI document (array items for a list)."""
    schema = openapi_schema()
    answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    answer = answer.get("items", answer)
    return schema["components"]["schemas"][answer["$ref"].rsplit("/", 1)[-1]]


def test_every_answer_has_the_fields_the_api_docs_describe(owner_jwt, btc_daily):
    """The schema checks (test_openapi_conformance) see no stored candles; here the answers are full."""
    candle_fields = set(openapi_schema()["components"]["schemas"]["Candle"]["properties"])
    candles = owner_jwt.get(f"{BTC}candles/", the_range(names="macd")).json()
    answers = {
        "/api/v1/market/tickers/": owner_jwt.get(TICKERS).json()[0],
        "/api/v1/market/{symbol}/": owner_jwt.get(BTC).json(),
        "/api/v1/market/{symbol}/candles/": candles,
        "/api/v1/market/{symbol}/indicators/": owner_jwt.get(f"{BTC}indicators/", the_range(names="rsi")).json(),
        "/api/v1/market/{symbol}/orderbook/": owner_jwt.get(f"{BTC}orderbook/").json(),
    }
    for path, body in answers.items():
        schema = documented(path)
        assert set(body) == set(schema["properties"]), path
        assert {"source", "source_label"} <= set(schema["required"]), path
    assert all(set(row) == candle_fields for row in candles["candles"])


# --- who may read ---------------------------------------------------------------------------------------
def test_a_read_api_key_reads_every_market_endpoint(reader, btc_daily):
    paths = [
        TICKERS,
        BTC,
        f"{BTC}candles/?timeframe=1d&start=2024-01-01&end=2024-01-31",
        f"{BTC}indicators/?timeframe=1d&start=2024-01-01&end=2024-12-31&names=rsi",
        f"{BTC}orderbook/",
    ]
    answers = [reader.get(path) for path in paths]
    assert [answer.status_code for answer in answers] == [200] * len(paths)
    assert len(answers[2].json()["candles"]) == 31


def test_the_market_needs_a_signed_in_client_or_a_key_with_the_read_scope(owner):
    _, trade_only = api_key_create(actor=TEST_ACTOR, user=owner, name="Trader", scopes=["trade"])
    refused_key = APIClient(HTTP_AUTHORIZATION=f"Api-Key {trade_only}").get(TICKERS)
    assert refused_key.status_code == 403 and refused_key.json()["code"] == "permission_denied"
    assert APIClient().get(TICKERS).status_code == 401
    assert APIClient().get(f"{BTC}candles/").status_code == 401
