"""The offline demo's emulator follows the replay the site shows, so orders fill at the prices shown.

`make run` shows the replay of real candles (MARKET_DATA_EXCHANGE=replay) and starts the emulator
with `--follow-replay`. Here the session's emulator follows it only when a test asks (every other
test keeps the fixed snapshot), and the app's own ccxt client (`exchanges.client.exchange_client`,
pointed at the emulator by EXCHANGE_API_URLS) reads it, as the trading services do.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from exchanges.catalogue import exchange_spec
from exchanges.client import exchange_client
from exchanges.credentials import open_credentials
from exchanges.emulator import market
from exchanges.emulator.follow import replay_days
from exchanges.endpoints import parse_overrides, point_at
from exchanges.market import replay
from tests.exchanges.helpers import connect
from tests.factories import UserFactory

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The replay moves about a minute of market time per wall-clock second at 60x: a few basis points at most.
TOLERANCE = Decimal("0.0005")


def replayed(symbol: str) -> Decimal:
    found = replay.quote(symbol)
    assert found is not None, symbol
    return found.last


def close_to(value: Decimal, expected: Decimal) -> bool:
    return abs(value - expected) <= expected * TOLERANCE


@pytest.fixture
def following(exchange_emulator):
    exchange_emulator.follow(replay_days, every=0.2)
    yield exchange_emulator
    exchange_emulator.unfollow()


def test_the_test_emulator_keeps_its_snapshot_unless_a_test_asks(exchange_emulator):
    client = exchange_client(exchange_spec("binance"))

    assert not exchange_emulator.following
    assert Decimal(str(client.fetch_ticker("BTC/USDT")["last"])) == market.initial_prices()["BTC"]


def test_following_the_replay_the_ticker_shows_the_replayed_price_of_the_same_instant(following):
    client = exchange_client(exchange_spec("binance"))

    for symbol in ("BTC/USDT", "ETH/USDT", "DOGE/USDT"):
        ticker = Decimal(str(client.fetch_ticker(symbol)["last"]))
        shown = replayed(symbol)
        assert close_to(ticker, shown), (symbol, ticker, shown)
        # the snapshot is far from the replay: this is not the fixed price passing by chance
        assert not close_to(market.initial_prices()[symbol.split("/")[0]], shown)


def test_following_the_replay_the_tickers_24h_figures_are_the_replays(following):
    client = exchange_client(exchange_spec("binance"))

    ticker = client.fetch_ticker("ETH/USDT")
    day = replay.quote("ETH/USDT")

    assert close_to(Decimal(str(ticker["open"])), day.open_24h)
    assert Decimal(str(ticker["low"])) <= Decimal(str(ticker["last"])) <= Decimal(str(ticker["high"]))
    assert close_to(Decimal(str(ticker["high"])), day.high_24h)
    assert close_to(Decimal(str(ticker["low"])), day.low_24h)


def test_kucoin_follows_the_replay_too(following):
    client = exchange_client(exchange_spec("kucoin"))

    assert close_to(Decimal(str(client.fetch_ticker("SOL/USDT")["last"])), replayed("SOL/USDT"))


@pytest.mark.django_db
def test_a_market_buy_on_an_emulated_binance_account_fills_at_the_replayed_price(following, binance_keys):
    connection = connect(UserFactory(), binance_keys)
    client = exchange_client(exchange_spec("binance"), open_credentials(connection))

    shown = replayed("BTC/USDT")
    order = client.create_order("BTC/USDT", "market", "buy", 0.01)

    assert order["status"] == "closed"
    assert close_to(Decimal(str(order["average"])), shown), (order["average"], shown)
    spent = Decimal(10000) - following.balance("binance", binance_keys["api_key"], "USDT")[0]
    assert close_to(spent, shown * Decimal("0.01")), spent


def test_a_resting_limit_order_fills_when_the_followed_price_passes_it_with_nobody_asking(
    exchange_emulator, binance_keys
):
    btc = [Decimal(50000)]
    exchange_emulator.follow(lambda: {"BTC": btc[-1]}, every=0.05)
    client = ccxt.binance({"apiKey": binance_keys["api_key"], "secret": binance_keys["secret"], "timeout": 3000})
    point_at(client, exchange_emulator.base_url("binance"))
    placed = client.create_order("BTC/USDT", "limit", "sell", 0.1, 51000)
    assert exchange_emulator.balance("binance", binance_keys["api_key"], "BTC") == (Decimal("0.4"), Decimal("0.1"))

    btc.append(Decimal(51200))  # the source moves; no request reaches the emulator while we wait
    deadline = time.monotonic() + 5
    while exchange_emulator.balance("binance", binance_keys["api_key"], "BTC")[1] and time.monotonic() < deadline:
        time.sleep(0.05)

    assert exchange_emulator.balance("binance", binance_keys["api_key"], "BTC") == (Decimal("0.4"), 0)
    assert client.fetch_order(placed["id"], "BTC/USDT")["status"] == "closed"
    assert exchange_emulator.price("binance", "BTC") == exchange_emulator.price("kucoin", "BTC") == Decimal(51200)


def test_reset_stops_following_and_brings_the_snapshot_back(exchange_emulator):
    exchange_emulator.follow(replay_days)

    exchange_emulator.reset()

    assert not exchange_emulator.following
    assert exchange_emulator.price("binance", "BTC") == market.initial_prices()["BTC"]


def test_the_command_with_follow_replay_serves_the_replayed_prices():
    command = subprocess.Popen(
        [sys.executable, "manage.py", "exchange_emulator", "--port", "0", "--follow-replay"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert command.stdout is not None
        printed = ""
        while "EXCHANGE_API_URLS=" not in printed:
            line = command.stdout.readline()
            assert line, f"the command ended early:\n{printed}"
            printed += line
        assert "follow the replay" in printed
        urls = parse_overrides(re.search(r"EXCHANGE_API_URLS=(\S+)", printed).group(1))
        client = ccxt.binance({"timeout": 3000})
        point_at(client, urls["binance"])

        last = Decimal(str(client.fetch_ticker("BTC/USDT")["last"]))

        assert close_to(last, replayed("BTC/USDT")), (last, replayed("BTC/USDT"))
    finally:
        command.terminate()
        command.wait(timeout=10)
