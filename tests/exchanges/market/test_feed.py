"""Tickers and order books: live from the exchange (the emulator, through ccxt's real client), and
the replay when the exchange cannot be reached, every answer saying which one it is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from exchanges.errors import UnknownSymbol
from exchanges.market import feed, replay
from exchanges.market.symbols import market_symbols, parse_symbol, url_symbol

MAJORS = [f"{base}/USDT" for base in ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")]


# The tests' exchange is the loopback emulator (EXCHANGE_API_URLS), and the label says so.
def live_label() -> str:
    host = urlsplit(dict(e.split("=", 1) for e in settings.EXCHANGE_API_URLS.split(","))["binance"]).netloc
    return f"Binance (live, via {host})"


@pytest.fixture(autouse=True)
def _fresh_clients():
    """Each test starts as a new process would: no public client, no markets loaded yet."""
    feed.reset_clients()
    yield
    feed.reset_clients()


def requests_to(emulator, path: str) -> int:
    return [called for _, called in emulator.calls("binance")].count(path)


# Symbols ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["BTC-USDT", "btc-usdt", "BTC/USDT", "BTCUSDT", " btc_usdt "])
def test_every_usual_spelling_of_a_market_means_the_same_symbol(text):
    assert parse_symbol(text) == "BTC/USDT"


@pytest.mark.parametrize("text", ["PEPE-USDT", "BTC-EUR", "BTC", "", "x" * 500])
def test_a_market_we_do_not_follow_is_refused_by_name(text):
    with pytest.raises(UnknownSymbol) as error:
        parse_symbol(text)
    assert error.value.status_code == 400 and error.value.code == "unknown_symbol" and error.value.field == "symbol"
    assert len(error.value.message) < 150


def test_symbols_come_from_settings_and_urls_use_a_dash(settings):
    assert market_symbols() == MAJORS
    assert url_symbol("DOGE/USDT") == "DOGE-USDT"
    settings.MARKET_SYMBOLS = ["ETH/USDT"]
    assert market_symbols() == ["ETH/USDT"]
    with pytest.raises(UnknownSymbol):
        parse_symbol("BTC-USDT")


# Live tickers -----------------------------------------------------------------------------------


def test_tickers_for_the_ten_majors_come_live_from_the_exchange_and_say_so(exchange_emulator):
    exchange_emulator.set_price("binance", "BTC", "65000")
    tickers = feed.tickers()

    assert [t.symbol for t in tickers] == MAJORS
    assert {(t.source, t.source_label) for t in tickers} == {("binance", live_label())}
    btc = tickers[0]
    assert btc.last == Decimal("65000")
    assert btc.high_24h >= btc.last >= btc.low_24h and btc.volume_24h > 0 and btc.quote_volume_24h > 0
    assert tickers[1].last == exchange_emulator.price("binance", "ETH")
    as_json = btc.as_dict()
    assert as_json["last"] == "65000.0" and as_json["source_label"] == live_label()
    assert all(isinstance(value, str) for value in as_json.values())


def test_cached_tickers_cost_no_request_until_they_expire(exchange_emulator):
    first = feed.tickers()
    asked = len(exchange_emulator.calls("binance"))
    assert requests_to(exchange_emulator, "/api/v3/ticker/24hr") == 1

    exchange_emulator.set_price("binance", "BTC", "70000")
    assert feed.tickers() == first  # the shared cache answered
    assert len(exchange_emulator.calls("binance")) == asked


def test_markets_load_once_per_process_not_on_every_tick(exchange_emulator):
    feed.fresh_prices()
    exchange_emulator.set_price("binance", "SOL", "222.5")
    ticks = [feed.fresh_prices() for _ in range(3)]

    assert requests_to(exchange_emulator, "/api/v3/exchangeInfo") == 1
    assert requests_to(exchange_emulator, "/api/v3/ticker/24hr") == 4  # one request a round
    assert ticks[-1][3].symbol == "SOL/USDT" and ticks[-1][3].last == Decimal("222.5")  # uncached


def test_a_followed_market_the_exchange_does_not_list_is_left_out_not_the_whole_feed(exchange_emulator, settings):
    settings.MARKET_SYMBOLS = ["BTC/USDT", "PEPE/USDT"]
    tickers = feed.tickers()
    assert [(t.symbol, t.source) for t in tickers] == [("BTC/USDT", "binance")]  # no replay candles for PEPE either


# The exchange down ------------------------------------------------------------------------------


def test_an_unreachable_exchange_gives_the_replay_labelled_as_such_then_live_again(exchange_emulator, monkeypatch):
    monkeypatch.setattr(feed, "FALLBACK_CACHE_SECONDS", 1)
    exchange_emulator.stop()

    replayed = feed.tickers()
    assert [t.symbol for t in replayed] == MAJORS
    assert {t.source for t in replayed} == {"replay"}
    assert all(t.source_label.startswith("Replay of Binance candles from 20") for t in replayed)
    assert replayed[0].source_label == replay.label()
    assert feed.ticker("ETH-USDT").source == "replay"

    exchange_emulator.start()
    assert feed.tickers() == replayed  # the replay stays cached only briefly
    time.sleep(1.1)
    recovered = feed.tickers()
    assert {t.source_label for t in recovered} == {live_label()}
    assert recovered[0].last == exchange_emulator.price("binance", "BTC")


def test_after_one_failure_no_caller_waits_on_the_dead_exchange_again_for_a_while(exchange_emulator):
    exchange_emulator.stop()
    feed.fresh_prices()
    exchange_emulator.start()
    exchange_emulator.reset()

    assert {t.source for t in feed.fresh_prices()} == {"replay"}
    assert exchange_emulator.calls("binance") == []


@pytest.mark.parametrize("fault", ["maintenance", "rate_limited"])
def test_an_exchange_refusing_to_answer_gives_the_replay(exchange_emulator, fault):
    exchange_emulator.set_fault("binance", fault)
    assert {t.source for t in feed.tickers()} == {"replay"}


def test_a_slow_exchange_gives_the_replay_within_the_timeout(exchange_emulator, settings):
    settings.EXCHANGE_TIMEOUT_SECONDS = 0.5
    exchange_emulator.set_fault("binance", "slow", seconds=3)
    started = time.monotonic()
    tickers = feed.tickers()
    assert time.monotonic() - started < 2.5
    assert {t.source for t in tickers} == {"replay"}


# One market -------------------------------------------------------------------------------------


def test_a_tickers_details_are_live_and_cached_for_longer(exchange_emulator, settings):
    assert settings.MARKET_DETAIL_CACHE_SECONDS == 300
    detail = feed.ticker("eth-usdt")
    assert detail.symbol == "ETH/USDT" and detail.source_label == live_label()
    assert detail.last == exchange_emulator.price("binance", "ETH")
    assert detail.change_24h_pct == detail.change_24h_pct.quantize(Decimal("0.01"))

    asked = len(exchange_emulator.calls("binance"))
    exchange_emulator.set_price("binance", "ETH", "1")
    assert feed.ticker("ETH/USDT") == detail
    assert len(exchange_emulator.calls("binance")) == asked
    with pytest.raises(UnknownSymbol):
        feed.ticker("NOPE-USDT")


def test_the_order_book_is_the_exchanges_best_levels(exchange_emulator):
    book = feed.order_book("BTC-USDT", depth=5)
    price = exchange_emulator.price("binance", "BTC")

    assert book.symbol == "BTC/USDT" and book.source == "binance" and book.source_label == live_label()
    assert len(book.bids) == len(book.asks) == 5
    assert book.bids[0][0] < price < book.asks[0][0]
    assert [level[0] for level in book.bids] == sorted((level[0] for level in book.bids), reverse=True)
    assert book.as_dict()["asks"][0] == [str(book.asks[0][0]), str(book.asks[0][1])]


def test_without_the_exchange_the_order_book_says_it_is_synthetic(exchange_emulator):
    exchange_emulator.stop()
    book = feed.order_book("ETH/USDT", depth=3)
    assert book.source == "replay"
    assert book.source_label.startswith("Replay of Binance candles from ")
    assert book.source_label.endswith("(synthetic order book around the replayed price)")
    assert len(book.bids) == len(book.asks) == 3 and book.bids[0][0] < book.asks[0][0]


@pytest.mark.parametrize("depth", [0, 101, "20", True])
def test_an_order_book_depth_out_of_range_is_refused(depth, exchange_emulator):
    with pytest.raises(ValidationError) as error:
        feed.order_book("BTC/USDT", depth=depth)
    assert error.value.message_dict == {"depth": ["Ask for between 1 and 100 levels."]}


def test_every_process_sees_the_same_replayed_price_at_the_same_instant():
    """Two processes (this one and a fresh interpreter) agree on the replay, with no shared state."""
    instant = 1_800_000_000.25
    code = (
        "import django; django.setup(); from exchanges.market import replay; "
        f"q = replay.quote('BTC/USDT', now={instant}); print(q.last, q.high_24h, q.volume_24h, replay.label({instant}))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cryptovault.settings"},
        timeout=60,
    )
    mine = replay.quote("BTC/USDT", now=instant)
    assert other.stdout.split("\n")[0] == f"{mine.last} {mine.high_24h} {mine.volume_24h} {replay.label(instant)}"


@pytest.mark.django_db
def test_the_replay_setting_serves_the_replay_without_asking_any_exchange(exchange_emulator, settings):
    settings.MARKET_DATA_EXCHANGE = "replay"  # what `make run` sets: the demo's prices move, labelled as a replay
    prices = feed.tickers()
    assert {t.source for t in prices} == {"replay"} and len(prices) == len(settings.MARKET_SYMBOLS)
    assert all(t.source_label.startswith("Replay of Binance candles from ") for t in prices)
    assert exchange_emulator.calls("binance") == []
