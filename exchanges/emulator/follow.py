"""The replay's prices for the emulator to follow (`manage.py exchange_emulator --follow-replay`).

The offline demo shows the replay of real candles (`exchanges.market.replay`, MARKET_DATA_EXCHANGE=replay)
while orders on the demo exchange connection fill on the emulator. Left at its fixed snapshot, the
emulator would fill a market order at a price the site never showed (BTC near 94,000 while the site
says 46,000) and an emulated stop would trigger on one price and fill at another. Following the
replay, it answers the price the site shows for the same instant: the replay is a pure function of
the wall clock, so the emulator process computes the same price as the web and publisher processes.

Unlike the rest of the emulator this reads Django settings (the replay speed), so only the command
imports it; tests keep the snapshot unless one asks for the replay with `Emulator.follow`.
"""

from __future__ import annotations

import time

from exchanges.emulator import market
from exchanges.market import replay

FOLLOW_SECONDS = 1.0  # how often the prices move between requests: resting LIMIT orders fill as they pass


def replay_days(now: float | None = None) -> dict[str, market.Candle]:
    """Each emulated pair's replayed last 24 hours at wall-clock `now` (default: now): its close is
    the replayed price (on the pair's tick), its open, high, low and volume the replay's 24h figures,
    so the emulator's tickers agree with the site's."""
    now = time.time() if now is None else now
    days = {}
    for base, rules in market.PAIRS.items():
        quote = replay.quote(f"{base}/{market.QUOTE}", now=now)
        if quote is None:
            continue
        days[base] = market.Candle(
            open_time=int(now * 1000) - market.DAY_MS,
            open=quote.open_24h.quantize(rules.tick),
            high=quote.high_24h.quantize(rules.tick),
            low=quote.low_24h.quantize(rules.tick),
            close=quote.last.quantize(rules.tick),
            volume=max(quote.volume_24h, rules.step),  # the tickers divide by it (the average price)
        )
    return days
