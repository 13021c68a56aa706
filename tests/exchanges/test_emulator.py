"""ccxt's real clients against the exchange emulator: what a connection test will meet.

Each case is what a user's key or a sick exchange does, seen through ccxt exactly as the app
will see it: which exception class, carrying which exchange code. The app maps these to what it
tells the user, so a change here (in the emulator or in ccxt) must be noticed.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from exchanges.emulator import Emulator, market
from exchanges.endpoints import parse_overrides, point_at
from tests.exchanges.conftest import (
    BINANCE_KEY,
    BINANCE_SECRET,
    KUCOIN_KEY,
    KUCOIN_PASSPHRASE,
    KUCOIN_SECRET,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def binance_key(exchange_emulator):
    return exchange_emulator.add_key("binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET)


@pytest.fixture
def kucoin_key(exchange_emulator):
    return exchange_emulator.add_key("kucoin", api_key=KUCOIN_KEY, secret=KUCOIN_SECRET, passphrase=KUCOIN_PASSPHRASE)


# Pointing ccxt somewhere else -------------------------------------------------------------------


def test_point_at_keeps_every_api_path_and_swaps_only_the_host():
    client = ccxt.binance()
    point_at(client, "http://127.0.0.1:9100/binance")
    assert client.urls["api"]["public"] == "http://127.0.0.1:9100/binance/api/v3"
    assert client.urls["api"]["sapi"] == "http://127.0.0.1:9100/binance/sapi/v1"
    assert client.urls["api"]["fapiPublic"] == "http://127.0.0.1:9100/binance/fapi/v1"
    assert all(url.startswith("http://127.0.0.1:9100/binance/") for url in client.urls["api"].values())


def test_point_at_rewrites_nested_url_tables():
    client = ccxt.kucoin()
    client.urls["api"] = {"rest": {"public": "https://api.kucoin.com", "v2": "https://api.kucoin.com/api/v2"}}
    point_at(client, "http://127.0.0.1:9100/kucoin/")
    assert client.urls["api"] == {
        "rest": {"public": "http://127.0.0.1:9100/kucoin", "v2": "http://127.0.0.1:9100/kucoin/api/v2"}
    }


def test_parse_overrides_reads_the_setting_and_names_what_is_wrong():
    assert parse_overrides(" binance=http://127.0.0.1:9100/binance , kucoin=http://127.0.0.1:9100/kucoin/ ") == {
        "binance": "http://127.0.0.1:9100/binance",
        "kucoin": "http://127.0.0.1:9100/kucoin",
    }
    assert parse_overrides("") == {}
    for malformed, says in [
        ("binance", "exchange=URL"),
        ("=http://127.0.0.1:9100", "exchange=URL"),
        ("binance=127.0.0.1:9100", "base URL"),
        ("binance=http://a/b,binance=http://c/d", "twice"),
        ("kucoin=ftp://127.0.0.1/kucoin", "'kucoin'"),
    ]:
        with pytest.raises(ValueError, match=re.escape(says)):
            parse_overrides(malformed)


# Binance: keys ----------------------------------------------------------------------------------


def test_a_good_binance_key_reads_the_balances_the_exchange_holds(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key(
        "binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET, balances={"USDT": "1234.5", "ETH": "2"}
    )

    balance = binance_client_factory().fetch_balance()

    assert balance["free"]["USDT"] == 1234.5
    assert balance["total"]["ETH"] == 2
    assert balance["total"]["BTC"] == 0


def test_a_wrong_secret_is_an_authentication_error_with_binance_code_1022(binance_key, binance_client_factory):
    with pytest.raises(ccxt.AuthenticationError, match="-1022") as refused:
        binance_client_factory(secret="not-the-secret").fetch_balance()
    assert "Signature for this request is not valid." in str(refused.value)


def test_an_unknown_or_revoked_key_is_refused_with_2015(exchange_emulator, binance_key, binance_client_factory):
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        binance_client_factory(api_key="never-issued").fetch_balance()

    exchange_emulator.remove_key("binance", BINANCE_KEY)
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        binance_client_factory().fetch_balance()


def test_ccxt_reports_a_2015_after_an_earlier_success_as_ddos_protection(
    exchange_emulator, binance_key, binance_client_factory
):
    """ccxt's workaround for Binance's temporary bans: once a client has been answered on a
    private endpoint, a later -2015 raises DDoSProtection, not AuthenticationError. A connection
    test must use a fresh client to tell a revoked key from a ban."""
    client = binance_client_factory()
    client.fetch_balance()
    exchange_emulator.remove_key("binance", BINANCE_KEY)

    with pytest.raises(ccxt.DDoSProtection, match="-2015"):
        client.fetch_balance()


def test_a_malformed_key_is_refused_with_2014(binance_client_factory):
    with pytest.raises(ccxt.AuthenticationError, match="-2014") as refused:
        binance_client_factory(api_key="not a key!").fetch_balance()
    assert "API-key format invalid." in str(refused.value)


def test_a_key_restricted_to_another_ip_is_refused_naming_the_request_ip(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key("binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET, allowed_ips=["203.0.113.7"])

    with pytest.raises(ccxt.AuthenticationError, match="-2015") as refused:
        binance_client_factory().fetch_balance()
    assert "request ip: 127.0.0.1" in str(refused.value)


def test_the_api_restrictions_tell_what_a_key_may_do(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key(
        "binance",
        api_key=BINANCE_KEY,
        secret=BINANCE_SECRET,
        allowed_ips=["127.0.0.1"],
        can_withdraw=True,
        can_trade=False,
    )

    restrictions = binance_client_factory().sapi_get_account_apirestrictions()

    assert restrictions["ipRestrict"] is True
    assert restrictions["enableReading"] is True
    assert restrictions["enableWithdrawals"] is True
    assert restrictions["enableSpotAndMarginTrading"] is False


def test_a_read_only_key_cannot_place_orders(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key("binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET, can_trade=False)

    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        binance_client_factory().create_order("BTC/USDT", "market", "buy", 0.001)
    assert exchange_emulator.balance("binance", BINANCE_KEY, "BTC") == (Decimal("0.5"), 0)


def test_a_clock_outside_the_recv_window_is_invalid_nonce_with_1021(
    exchange_emulator, binance_key, binance_client_factory
):
    exchange_emulator.set_clock_offset("binance", 60)  # the exchange is a minute ahead of us

    with pytest.raises(ccxt.InvalidNonce, match="-1021") as refused:
        binance_client_factory().fetch_balance()
    assert "outside of the recvWindow" in str(refused.value)


# Binance: a sick exchange -----------------------------------------------------------------------


def test_a_rate_limited_exchange_is_ddos_protection_with_1003(exchange_emulator, binance_key, binance_client_factory):
    exchange_emulator.set_fault("binance", "rate_limited")

    with pytest.raises(ccxt.DDoSProtection, match="429") as refused:
        binance_client_factory().fetch_balance()
    assert "-1003" in str(refused.value)


def test_maintenance_is_exchange_not_available(exchange_emulator, binance_key, binance_client_factory):
    exchange_emulator.set_fault("binance", "maintenance")

    with pytest.raises(ccxt.OnMaintenance, match=re.escape("System is under maintenance.")):
        binance_client_factory().fetch_balance()
    assert issubclass(ccxt.OnMaintenance, ccxt.ExchangeNotAvailable)


def test_an_exchange_slower_than_the_timeout_is_a_request_timeout(
    exchange_emulator, binance_key, binance_client_factory
):
    exchange_emulator.set_fault("binance", "slow", seconds=1)

    with pytest.raises(ccxt.RequestTimeout):
        binance_client_factory(timeout=200).fetch_balance()


def test_a_stopped_exchange_is_a_network_error_and_comes_back_when_started():
    with Emulator() as emulator:
        emulator.add_key("binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET)
        client = ccxt.binance({"apiKey": BINANCE_KEY, "secret": BINANCE_SECRET, "timeout": 3000})
        point_at(client, emulator.base_url("binance"))
        client.fetch_balance()  # the client now holds a kept-alive connection

        emulator.stop()
        with pytest.raises(ccxt.NetworkError) as refused:
            client.fetch_balance()
        assert not isinstance(refused.value, ccxt.ExchangeError)

        emulator.start()
        assert client.fetch_balance()["total"]["USDT"] == 10000


# Binance: trading -------------------------------------------------------------------------------


def test_a_market_buy_fills_at_the_price_and_moves_the_balances(exchange_emulator, binance_key, binance_client_factory):
    price = exchange_emulator.price("binance", "BTC/USDT")

    order = binance_client_factory().create_order("BTC/USDT", "market", "buy", 0.01)

    assert order["status"] == "closed"
    assert order["filled"] == 0.01
    assert Decimal(str(order["average"])) == price
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT") == (Decimal(10000) - price * Decimal("0.01"), 0)
    # Binance's 0.1% fee, taken from what was bought
    assert exchange_emulator.balance("binance", BINANCE_KEY, "BTC") == (Decimal("0.50999"), 0)


def test_an_order_beyond_the_balance_is_insufficient_funds_with_2010(binance_key, binance_client_factory):
    with pytest.raises(ccxt.InsufficientFunds, match="insufficient balance"):
        binance_client_factory().create_order("BTC/USDT", "market", "buy", 1)


def test_a_limit_order_rests_locks_its_funds_and_is_released_on_cancel(
    exchange_emulator, binance_key, binance_client_factory
):
    client = binance_client_factory()

    placed = client.create_order("ETH/USDT", "limit", "buy", 0.5, 3000)
    assert placed["status"] == "open"
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT") == (Decimal(8500), Decimal(1500))

    fetched = client.fetch_order(placed["id"], "ETH/USDT")
    assert (fetched["status"], fetched["price"], fetched["amount"], fetched["filled"]) == ("open", 3000, 0.5, 0)
    assert [order["id"] for order in client.fetch_open_orders("ETH/USDT")] == [placed["id"]]

    client.cancel_order(placed["id"], "ETH/USDT")
    assert client.fetch_order(placed["id"], "ETH/USDT")["status"] == "canceled"
    assert client.fetch_open_orders("ETH/USDT") == []
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT") == (Decimal(10000), 0)
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        client.cancel_order(placed["id"], "ETH/USDT")


def test_a_resting_limit_order_fills_when_the_price_reaches_it(exchange_emulator, binance_key, binance_client_factory):
    client = binance_client_factory()
    placed = client.create_order("BTC/USDT", "limit", "sell", 0.1, 100000)

    exchange_emulator.set_price("binance", "BTC/USDT", "100500")

    assert client.fetch_order(placed["id"], "BTC/USDT")["status"] == "closed"
    [trade] = client.fetch_my_trades("BTC/USDT")
    assert (trade["price"], trade["amount"], trade["side"]) == (100000, 0.1, "sell")
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT") == (Decimal(10000) + Decimal(9990), 0)


# Binance: market data ---------------------------------------------------------------------------


def test_markets_carry_binance_trading_rules(binance_client_factory):
    client = binance_client_factory(apiKey=None, secret=None)

    markets = client.load_markets()

    assert {symbol for symbol in markets if markets[symbol]["spot"]} == {f"{base}/USDT" for base in market.PAIRS}
    btc = markets["BTC/USDT"]
    assert (btc["precision"]["price"], btc["precision"]["amount"]) == (0.01, 0.00001)
    assert btc["limits"]["cost"]["min"] == 5


def test_the_ticker_shows_the_last_recorded_close_and_a_book_around_it(binance_client_factory):
    client = binance_client_factory(apiKey=None, secret=None)
    last_close = float(market.daily_candles()["ETH"][-1].close)

    ticker = client.fetch_ticker("ETH/USDT")
    book = client.fetch_order_book("ETH/USDT", 5)

    assert ticker["last"] == last_close
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] < last_close < book["asks"][0][0]
    assert client.fetch_tickers(["BTC/USDT", "SOL/USDT"]).keys() == {"BTC/USDT", "SOL/USDT"}


def test_daily_candles_are_the_recorded_ones(binance_client_factory):
    recorded = market.daily_candles()["BTC"][-2:]

    candles = binance_client_factory(apiKey=None, secret=None).fetch_ohlcv("BTC/USDT", "1d", limit=2)

    assert [[c[0], c[4]] for c in candles] == [[r.open_time, float(r.close)] for r in recorded]


def test_requests_are_logged_by_method_and_path_without_keys_or_signatures(
    exchange_emulator, binance_key, binance_client_factory, caplog
):
    caplog.set_level(logging.DEBUG, logger="exchanges.emulator")

    binance_client_factory().fetch_balance()

    lines = [record.getMessage() for record in caplog.records if record.name == "exchanges.emulator"]
    assert "GET /binance/api/v3/account" in lines
    assert not [line for line in lines if "signature" in line or "timestamp" in line or BINANCE_KEY in line]


# KuCoin -----------------------------------------------------------------------------------------


def test_a_good_kucoin_key_with_its_passphrase_reads_the_balances(kucoin_key, kucoin_client_factory):
    balance = kucoin_client_factory().fetch_balance()

    assert balance["free"]["USDT"] == 10000
    assert balance["total"]["BTC"] == 0.5


def test_a_wrong_kucoin_passphrase_is_an_authentication_error_with_400004(kucoin_key, kucoin_client_factory):
    with pytest.raises(ccxt.AuthenticationError, match="400004"):
        kucoin_client_factory(password="not-the-passphrase").fetch_balance()


def test_kucoin_errors_carry_kucoin_codes(exchange_emulator, kucoin_key, kucoin_client_factory):
    with pytest.raises(ccxt.AuthenticationError, match="400003"):
        kucoin_client_factory(api_key="never-issued").fetch_balance()

    exchange_emulator.add_key(
        "kucoin",
        api_key="kc-office-only",
        secret=KUCOIN_SECRET,
        passphrase=KUCOIN_PASSPHRASE,
        allowed_ips=["203.0.113.7"],
    )
    with pytest.raises(ccxt.AuthenticationError, match="400006") as refused:
        kucoin_client_factory(api_key="kc-office-only").fetch_balance()
    assert "the current clientIp is:127.0.0.1" in str(refused.value)

    exchange_emulator.set_clock_offset("kucoin", 30)
    with pytest.raises(ccxt.InvalidNonce, match="400002"):
        kucoin_client_factory().fetch_balance()


def test_without_a_passphrase_ccxt_refuses_before_asking_kucoin_for_the_account(
    exchange_emulator, kucoin_key, kucoin_client_factory
):
    with pytest.raises(ccxt.AuthenticationError, match='requires "password"'):
        kucoin_client_factory(password=None).fetch_balance()
    assert ("GET", "/api/v1/accounts") not in exchange_emulator.calls("kucoin")


def test_kucoin_market_data_lists_the_same_pairs_at_the_same_prices(exchange_emulator, kucoin_client_factory):
    client = kucoin_client_factory(apiKey=None, secret=None, password=None)

    assert {s for s, m in client.load_markets().items() if m["spot"]} == {f"{base}/USDT" for base in market.PAIRS}
    assert client.fetch_ticker("BTC/USDT")["last"] == float(exchange_emulator.price("binance", "BTC"))
    assert len(client.fetch_order_book("BTC/USDT", 20)["bids"]) == 20


# The demo command -------------------------------------------------------------------------------


def test_the_demo_command_serves_the_demo_keys_and_prints_the_setting_to_export():
    from exchanges.emulator.demo import DEMO_KEYS

    command = subprocess.Popen(
        [sys.executable, "manage.py", "exchange_emulator", "--port", "0", "--demo-keys"],
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
        urls = parse_overrides(re.search(r"EXCHANGE_API_URLS=(\S+)", printed).group(1))
        trader = next(entry for entry in DEMO_KEYS if entry["exchange"] == "binance" and "allowed_ips" not in entry)
        assert trader["secret"] not in printed

        client = ccxt.binance({"apiKey": trader["api_key"], "secret": trader["secret"], "timeout": 3000})
        point_at(client, urls["binance"])
        assert client.fetch_balance()["total"]["USDT"] == float(trader["balances"]["USDT"])
    finally:
        command.terminate()
        command.wait(timeout=10)
