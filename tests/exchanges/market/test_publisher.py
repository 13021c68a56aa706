"""The price publisher: one tick reaches the websocket group, the cache and the alerts' signal, and
only one publisher runs at a time (a Redis lock), surviving failing ticks and stopping on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command

from cryptovault.events import PRICES_GROUP
from cryptovault.ratelimits import redis_client
from cryptovault.testing import child_process_database_url
from exchanges.market.feed import Ticker
from exchanges.market.publisher import LAST_TICK_KEY, publish_tick, run_publisher
from exchanges.market.signals import price_tick
from exchanges.market.stats import PUBLISHER_LOCK_KEY, ws_stats

pytestmark = pytest.mark.django_db  # receivers of price_tick (trading's alerts) read the database


class Listener:
    """A channel in the "prices" group, as a websocket consumer would hold, read directly."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(PRICES_GROUP, self.channel)

    def next(self, timeout: float = 10) -> dict:
        async def receive():
            async with asyncio.timeout(timeout):
                return await self.layer.receive(self.channel)

        return async_to_sync(receive)()

    def close(self):
        async_to_sync(self.layer.group_discard)(PRICES_GROUP, self.channel)


@pytest.fixture
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture
def signalled():
    """The tickers each price_tick signal carried (a real receiver, as trading's alerts connect one)."""
    received: list[list[Ticker]] = []

    def receiver(sender, tickers, **kwargs):
        received.append(tickers)

    price_tick.connect(receiver, weak=False)
    yield received
    price_tick.disconnect(receiver)


class Publisher:
    """run_publisher in a thread, as the command runs it, with its lines collected."""

    def __init__(self, interval: float = 0.1):
        self.stop = threading.Event()
        self.lines: list[str] = []
        self.ticks: int | None = None
        self.thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        self.ticks = run_publisher(interval=interval, stop=self.stop, say=self.lines.append, progress_every=5)

    def start(self) -> Publisher:
        self.thread.start()
        return self

    def said(self, text: str, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.02)
        return False

    def halt(self) -> int | None:
        self.stop.set()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive()
        return self.ticks


def test_a_tick_reaches_the_websocket_group_the_cache_and_the_alerts(exchange_emulator, listener, signalled):
    exchange_emulator.set_price("binance", "BTC", "70123.45")

    tickers = publish_tick()

    message = listener.next()
    assert message["type"] == "event.message" and message["event"] == "prices.tick"
    btc = message["payload"]["ticks"][0]
    assert btc["symbol"] == "BTC/USDT" and Decimal(btc["last"]) == Decimal("70123.45")
    assert btc["source_label"].startswith("Binance (live, via 127.0.0.1:")
    assert [ticker.symbol for ticker in tickers] == settings.MARKET_SYMBOLS
    assert cache.get(LAST_TICK_KEY) == message["payload"]
    assert signalled == [tickers]
    assert ws_stats().last_tick is not None


def test_when_the_exchange_is_down_the_tick_says_it_is_a_replay(exchange_emulator, listener):
    exchange_emulator.stop()

    publish_tick()

    ticks = listener.next()["payload"]["ticks"]
    assert {tick["source"] for tick in ticks} == {"replay"}
    assert all("Replay" in tick["source_label"] for tick in ticks)


def test_only_one_publisher_runs_and_a_second_takes_over_when_it_stops(exchange_emulator, listener):
    first = Publisher().start()
    assert first.said("Publishing prices")
    assert ws_stats().publisher_running

    with pytest.raises(CommandError, match="Another publisher"):
        call_command("publish_prices", "--once")

    second = Publisher().start()
    assert second.said("waiting to take over")
    time.sleep(0.5)
    assert not any("Publishing prices" in line for line in second.lines)  # still waiting while the first runs

    first_ticks = first.halt()
    assert first_ticks and first_ticks >= 2
    assert second.said("Publishing prices")  # took over once the lock was released
    assert second.said("(0 failed)")
    second.halt()
    assert not ws_stats().publisher_running


def test_the_lock_of_a_publisher_that_died_expires_and_another_takes_over(exchange_emulator, listener):
    dead = redis_client().lock(PUBLISHER_LOCK_KEY, timeout=1.0)  # taken, then never renewed nor released
    assert dead.acquire(blocking=False)

    successor = Publisher().start()
    assert successor.said("waiting to take over")
    assert successor.said("Publishing prices", timeout=5)
    assert successor.said("1 tick (0 failed)")  # halting before its first tick would leave nothing to hear
    successor.halt()
    assert listener.next()["event"] == "prices.tick"


def test_a_failing_tick_is_logged_and_the_next_ones_still_come(exchange_emulator, listener, caplog, monkeypatch):
    from exchanges.market import publisher as publisher_module

    real, failures = publisher_module.fresh_prices, []

    def fails_once():
        if not failures:
            failures.append(True)
            raise RuntimeError("the price source broke for one tick")
        return real()

    monkeypatch.setattr(publisher_module, "fresh_prices", fails_once)
    publisher = Publisher().start()
    assert publisher.said("5 ticks (1 failed)")
    publisher.halt()
    assert "Price tick failed" in caplog.text


def test_a_receiver_that_hangs_or_fails_never_holds_up_the_prices(exchange_emulator, listener, caplog):
    """Found by a probe: an alert's email to a mail server that never answered stopped every tick."""
    released, calls = threading.Event(), []

    def hung_receiver(sender, tickers, **kwargs):
        calls.append(len(tickers))
        if len(calls) == 1:
            raise RuntimeError("an alerts receiver failed")
        released.wait(10)  # a mail server that never answers

    price_tick.connect(hung_receiver, weak=False)
    try:
        publisher = Publisher().start()
        assert publisher.said("10 ticks (0 failed)"), publisher.lines  # ticks go on while the receiver hangs
        released.set()
        publisher.halt()
    finally:
        price_tick.disconnect(hung_receiver)
    assert 2 <= len(calls) < 10, "the hung receiver gets the latest tick next, not the backlog"
    assert "A price_tick receiver failed" in caplog.text


def test_once_publishes_one_tick(exchange_emulator, listener, capsys):
    call_command("publish_prices", "--once")

    assert listener.next()["event"] == "prices.tick"
    assert "Published one tick: 10 symbols from Binance (live, via 127.0.0.1:" in capsys.readouterr().out
    assert not redis_client().exists(PUBLISHER_LOCK_KEY)


def test_the_command_stops_on_sigterm_and_releases_the_lock(transactional_db, exchange_emulator):
    env = {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": child_process_database_url(),
        "ENV_FILE": "",
        "TESTING": "true",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "manage.py", "publish_prices", "--interval", "0.2"]
    process = subprocess.Popen(
        command, cwd=Path(settings.BASE_DIR), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = []
        while not any("Publishing prices every 0.2 s" in line for line in lines):
            lines.append(process.stdout.readline())
            assert lines[-1], "".join(lines)  # the command ended before publishing
        assert redis_client().exists(PUBLISHER_LOCK_KEY)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Publisher stopped after" in output
    assert not redis_client().exists(PUBLISHER_LOCK_KEY)
