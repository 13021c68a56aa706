"""The live price publisher: one tick of fresh prices to every /ws/prices client and to the alerts.

A tick is `fresh_prices()` (live from the exchange, or the labelled replay), kept in the cache as
"market:last_tick" (the snapshot a new websocket client gets first), broadcast to the group
"prices" as the event "prices.tick", counted in the websocket stats and announced with the
`price_tick` signal (trading's price alerts listen; exchanges never imports trading).

Exactly one publisher runs per deployment: `manage.py publish_prices` holds a Redis lock while it
publishes and renews it every tick. A second one waits and says so; it takes over when the first
stops (it releases the lock) or dies (the lock expires after `lock_seconds()`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from cryptovault.events import PRICES_GROUP, broadcast
from cryptovault.ratelimits import redis_client
from exchanges.market.feed import Ticker, fresh_prices
from exchanges.market.signals import price_tick
from exchanges.market.stats import PUBLISHER_LOCK_KEY, tick_recorded

logger = logging.getLogger(__name__)

LAST_TICK_KEY = "market:last_tick"
TICK_EVENT = "prices.tick"


def last_tick_seconds() -> float:
    """How long the last tick serves as the snapshot: a few ticks, so a stopped publisher's prices
    age out instead of being shown as current forever."""
    return max(30.0, 3 * settings.PRICE_TICK_SECONDS)


def tick_payload(tickers: list[Ticker]) -> dict[str, Any]:
    return {"ticks": [ticker.as_dict() for ticker in tickers], "at": timezone.now().isoformat()}


def publish_tick(*, announce: Callable[[list[Ticker]], None] | None = None) -> list[Ticker]:
    """Fetch, keep, broadcast, count and announce one tick; returns its tickers.

    `announce` hands the tickers to the `price_tick` receivers; by default they run here and now
    (one tick, as the tests and `--once` want). The publisher's loop passes `TickReceivers.hand`.
    """
    tickers = fresh_prices()
    payload = tick_payload(tickers)
    cache.set(LAST_TICK_KEY, payload, timeout=last_tick_seconds())
    broadcast(PRICES_GROUP, TICK_EVENT, payload)
    tick_recorded(timezone.now())
    (announce or _send_price_tick)(tickers)
    return tickers


def _send_price_tick(tickers: list[Ticker]) -> None:
    price_tick.send(sender=None, tickers=tickers)


class TickReceivers(threading.Thread):
    """Runs the `price_tick` receivers (trading's alerts, with their emails) beside the tick loop.

    Prices must keep flowing whatever a receiver waits on (a slow or hung mail server): the loop
    hands each tick over and goes on. A receiver still busy when newer ticks come is given only the
    latest one next (alerts are judged on the newest price, never on a backlog). Failures are
    logged; the receivers get the next tick as usual.
    """

    def __init__(self) -> None:
        super().__init__(name="price-tick-receivers", daemon=True)
        self._latest: list[Ticker] | None = None
        self._ready = threading.Condition()
        self._stopped = False

    def hand(self, tickers: list[Ticker]) -> None:
        with self._ready:
            self._latest = tickers
            self._ready.notify()

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify()

    def run(self) -> None:
        while True:
            with self._ready:
                while self._latest is None and not self._stopped:
                    self._ready.wait()
                if self._stopped:
                    return
                tickers, self._latest = self._latest, None
            close_old_connections()
            try:
                _send_price_tick(tickers)
            except Exception:
                logger.exception("A price_tick receiver failed; prices go on")


def last_tick_payload() -> dict[str, Any]:
    """The snapshot for a new client: the last tick, or fresh prices when no publisher ran lately
    (kept like a tick, so a crowd reconnecting at once makes one exchange call, not one each)."""
    payload = cache.get(LAST_TICK_KEY)
    if payload is None:
        payload = tick_payload(fresh_prices())
        cache.add(LAST_TICK_KEY, payload, timeout=last_tick_seconds())
    return payload


# --- the publisher process -------------------------------------------------------------------------


def lock_seconds(interval: float) -> float:
    """The lock outlives a slow tick (an exchange timing out before the replay answers) with room to spare."""
    return max(30.0, 3 * interval + settings.EXCHANGE_TIMEOUT_SECONDS)


def publisher_lock(interval: float) -> Lock:
    return redis_client().lock(PUBLISHER_LOCK_KEY, timeout=lock_seconds(interval), thread_local=False)


def run_publisher(
    *,
    interval: float,
    stop: threading.Event,
    say: Callable[[str], None],
    progress_every: int = 12,
) -> int:
    """Publish a tick every `interval` seconds while holding the lock, until `stop` is set.

    Waits (saying so once) while another publisher holds the lock. A failing tick is logged and
    the loop goes on. Returns the number of ticks published.
    """
    published = 0
    while not stop.is_set():
        lock = publisher_lock(interval)
        if not _acquire(lock, interval=interval, stop=stop, say=say):
            break
        say(f"Publishing prices every {interval:g} s to /ws/prices (lock {PUBLISHER_LOCK_KEY} held).")
        try:
            published += _publish_while_held(lock, interval=interval, stop=stop, say=say, progress_every=progress_every)
        finally:
            # Expired or taken over meanwhile, or Redis is gone: nothing of ours left to release.
            with contextlib.suppress(LockError, RedisError):
                lock.release()
    return published


def _acquire(lock: Lock, *, interval: float, stop: threading.Event, say: Callable[[str], None]) -> bool:
    said = False
    while not stop.is_set():
        try:
            if lock.acquire(blocking=False):
                return True
        except RedisError:
            logger.exception("Cannot reach Redis to take the publisher lock; trying again")
        if not said:
            say(f"Another publisher holds the lock {PUBLISHER_LOCK_KEY}; waiting to take over.")
            said = True
        stop.wait(min(interval, 1.0))
    return False


def _publish_while_held(
    lock: Lock, *, interval: float, stop: threading.Event, say: Callable[[str], None], progress_every: int
) -> int:
    receivers = TickReceivers()
    receivers.start()
    try:
        return _tick_loop(
            lock, interval=interval, stop=stop, say=say, progress_every=progress_every, receivers=receivers
        )
    finally:
        receivers.stop()


def _tick_loop(
    lock: Lock,
    *,
    interval: float,
    stop: threading.Event,
    say: Callable[[str], None],
    progress_every: int,
    receivers: TickReceivers,
) -> int:
    ticks = failed = 0
    started = time.monotonic()
    due = started
    while not stop.is_set():
        close_old_connections()  # a long-lived process: a dropped database connection is replaced, as per request
        try:
            tickers = publish_tick(announce=receivers.hand)
            ticks += 1
            if ticks % progress_every == 0 or ticks == 1:
                source = tickers[0].source_label if tickers else "no prices"
                plural = "" if ticks == 1 else "s"
                say(f"{ticks} tick{plural} ({failed} failed) in {time.monotonic() - started:.0f} s; last: {source}.")
        except Exception:
            failed += 1
            logger.exception("Price tick failed; the publisher goes on")
        try:
            lock.reacquire()  # renew: the lock expires only if this process stops renewing it
        except LockError:
            say("Lost the publisher lock (a tick took longer than it lasts); waiting to take it again.")
            return ticks
        except RedisError:
            logger.exception("Cannot renew the publisher lock; trying again next tick")
        due += interval
        stop.wait(max(0.0, due - time.monotonic()))
        if time.monotonic() - due > interval:
            due = time.monotonic()  # after a long stall, tick now rather than in a burst to catch up
    return ticks
