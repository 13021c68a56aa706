"""The SMA-crossover backtest gives backtrader's trades and final equity on real candles.

The rules (the issue's, and the engine's "simple" execution model): averages on the range alone; a
cross is a strict change of sign of fast - slow; the signal on a candle's close fills at the next
candle's open (none on the last candle); long-only, all in, size = cash / (open x (1 + fee)),
fractional; 0.1% fee per side; final equity = cash + size x last close.

How backtrader is made to follow them. Its market orders fill at the next bar's open, but it sizes an
order when it is placed, at the signal bar, before that open is known. So the signal is only noted in
`next()` (at the close), and the order is placed in `next_open()` of the following bar with
`cheat_on_open`: backtrader calls it with that bar's open visible, before the broker runs, and a
market order placed there fills at that same open. The size is then computed from the open it fills
at, which is exactly the rule. Two more settings: the broker's submit-time cash check is off (it
would price the order at the bar's close, which is not the fill price), and when size x open plus its
commission exceeds the cash by a rounding error in backtrader's own arithmetic (cash - size x price -
size x fee x price), the size is stepped down one ulp at a time until backtrader's execution accepts
it instead of silently cancelling the fill. That moves the equity by about 1e-16, far inside 1e-9.
The averages are backtrader's own SMA (math.fsum over the window), the crossing test is written out
(`bt.ind.CrossOver` would treat a touch of zero as a cross) and the commission is 0.1% of value.

Compared: every fill (the candle it filled on, side and price, exactly; the size to 1e-9 relative)
and the final equity to 1e-9 relative.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import backtrader as bt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.backtest.engine import run_backtest
from analytics.backtest.execution import ExecutionModel
from tests.analytics.backtest_data import SYMBOLS, shared_candles

FEE = 0.001
RTOL = 1e-9


class ArrayFeed(bt.feed.DataBase):
    """The engine's Candles as a backtrader feed (naive UTC datetimes)."""

    params = (("candles", None),)

    def start(self):
        super().start()
        self._index = 0

    def _load(self):
        candles = self.p.candles
        if self._index >= len(candles):
            return False
        i = self._index
        moment = datetime.fromtimestamp(int(candles.time[i]) / 1000, UTC).replace(tzinfo=None)
        self.lines.datetime[0] = bt.date2num(moment)
        self.lines.open[0] = candles.open[i]
        self.lines.high[0] = candles.high[i]
        self.lines.low[0] = candles.low[i]
        self.lines.close[0] = candles.close[i]
        self.lines.volume[0] = candles.volume[i]
        self.lines.openinterest[0] = 0.0
        self._index += 1
        return True


class SmaCrossNextOpen(bt.Strategy):
    params = (("fast", 10), ("slow", 30), ("fee", FEE))

    def __init__(self):
        self.fast = bt.indicators.SMA(self.data.close, period=self.p.fast)
        self.slow = bt.indicators.SMA(self.data.close, period=self.p.slow)
        self.pending = None
        self.fills = []

    def next(self):
        now, before = self.fast[0] - self.slow[0], self.fast[-1] - self.slow[-1]
        if before < 0 < now and not self.position:
            self.pending = "buy"
        elif before > 0 > now and self.position:
            self.pending = "sell"

    def next_open(self):
        if self.pending == "buy":
            cash, price, fee = self.broker.getcash(), self.data.open[0], self.p.fee
            size = cash / (price * (1 + fee))
            while cash - abs(size) * price - abs(size) * fee * price < 0:
                size = math.nextafter(size, 0.0)
            self.buy(size=size)
        elif self.pending == "sell":
            self.close()
        self.pending = None

    prenext_open = next_open

    def notify_order(self, order):
        if order.status == order.Completed:
            side = "buy" if order.isbuy() else "sell"
            # the price the broker filled at; executed.price is a size-weighted average that, for a
            # fractional closing order, can come back one ulp away from it
            (bit,) = order.executed.exbits
            self.fills.append((len(self.data) - 1, side, abs(bit.size), bit.price))
        elif order.status in (order.Margin, order.Rejected, order.Canceled):
            raise AssertionError(f"backtrader refused an order: {order.getstatusname()}")


def backtrader_run(candles, fast, slow, cash=10_000.0):
    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(ArrayFeed(candles=candles))
    cerebro.addstrategy(SmaCrossNextOpen, fast=fast, slow=slow)
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=FEE)
    cerebro.broker.set_checksubmit(False)
    (strategy,) = cerebro.run()
    return strategy.fills, strategy.broker.getvalue()


def assert_same_as_backtrader(candles, fast, slow):
    ours = run_backtest(candles, "sma_cross", {"fast": fast, "slow": slow}, ExecutionModel(fee=FEE))
    if len(candles) <= slow:  # backtrader cannot run an indicator longer than its data; nothing can cross
        assert ours.fills == []
        return ours
    their_fills, their_equity = backtrader_run(candles, fast, slow)
    bars, sides, qtys, prices = ours.fill_arrays[:4]
    our_fills = [
        (int(bar), "buy" if side > 0 else "sell", float(qty), float(price))
        for bar, side, qty, price in zip(bars, sides, qtys, prices, strict=True)
    ]
    assert [(bar, side, price) for bar, side, _qty, price in our_fills] == [
        (bar, side, price) for bar, side, _qty, price in their_fills
    ]
    for (_, _, our_qty, _), (_, _, their_qty, _) in zip(our_fills, their_fills, strict=True):
        assert our_qty == pytest.approx(their_qty, rel=RTOL)
    # trades as users see them: times are the fill candles' open times, prices the opens
    for trade in ours.trades:
        assert candles.open[candles.time == trade.entry_time][0] == trade.entry_price
        if trade.exit_time is not None:
            assert candles.open[candles.time == trade.exit_time][0] == trade.exit_price
    assert ours.final_equity == pytest.approx(their_equity, rel=RTOL)
    return ours


CASES = [
    # symbol, timeframe, first candle, candles, fast, slow
    ("BTC", "1d", 0, None, 10, 30),
    ("ETH", "1d", 500, 1500, 20, 50),
    ("SOL", "4h", 0, 4000, 10, 30),
    ("XRP", "4h", 6000, 3000, 5, 100),
    ("DOGE", "1h", 0, 5000, 10, 30),
    ("LINK", "1h", 12_000, 4000, 2, 3),
    ("AVAX", "1h", 20_000, None, 50, 200),
    ("ADA", "1d", 100, 400, 30, 31),
    ("BTC", "1h", 0, None, 10, 30),  # the whole 1h file, 23,987 candles
    ("DOT", "1h", 0, None, 2, 3),  # short periods on quantised prices: many exact ties
    ("BNB", "4h", 0, None, 7, 8),
]


@pytest.mark.parametrize(("base", "timeframe", "first", "count", "fast", "slow"), CASES)
def test_sma_crossover_matches_backtrader_trade_for_trade(base, timeframe, first, count, fast, slow):
    candles = shared_candles(base, timeframe)
    candles = candles[first : None if count is None else first + count]
    result = assert_same_as_backtrader(candles, fast, slow)
    assert result.trades, "the case should trade at all"


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(SYMBOLS),
    timeframe=st.sampled_from(["1h", "4h", "1d"]),
    start_fraction=st.floats(min_value=0, max_value=0.9),
    count=st.integers(min_value=20, max_value=6000),
    fast=st.integers(min_value=2, max_value=60),
    gap=st.integers(min_value=1, max_value=120),
)
def test_sma_crossover_matches_backtrader_on_random_symbols_ranges_and_periods(
    base, timeframe, start_fraction, count, fast, gap
):
    candles = shared_candles(base, timeframe)
    first = int(start_fraction * len(candles))
    assert_same_as_backtrader(candles[first : first + count], fast, fast + gap)
