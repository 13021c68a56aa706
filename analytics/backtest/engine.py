"""The backtest: a strategy's targets, filled by an execution model over candles.

`run_backtest(candles, strategy, params, execution, initial_cash=...)` computes the strategy's targets
vectorised (numpy), then walks the candles once in a loop compiled with numba, so a backtest is linear
in the candles and costs tens of nanoseconds per candle (bench/backtest_bench.py). On each candle i:

1. the target decided at candle i-1's close, if it differs from the one held, is filled at candle i's
   open (sized, slipped and charged as `execution.py` says);
2. an open position's stop-loss and take-profit are checked against candle i's low and high;
3. equity is marked at candle i's close: cash + qty x close.

A target is only ever read one candle after it was decided, and never on the last candle, so changing
candles after i never changes anything up to i (tests/analytics/test_backtest_engine.py shows it).

With `ExecutionModel()` (the "simple" model) this is exactly the issue's rule set, which backtrader
reproduces (tests/analytics/test_backtest_backtrader.py): averages on the range alone, a cross is a
strict change of sign of fast - slow, the signal on a close fills at the next open, long-only all in
with qty = cash / (open x (1 + fee)), fractional, 0.1% per side, final equity = cash + qty x last close.

The result holds numpy arrays; trades as objects and the metrics (analytics.metrics) are computed
when first asked for, so an optimiser ranking thousands of runs pays only for what it reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numba import njit

from analytics.backtest.candles import Candles
from analytics.backtest.execution import SIMPLE, ExecutionModel
from analytics.backtest.strategies import Strategy, get_strategy
from analytics.backtest.strategies.base import Params

DEFAULT_INITIAL_CASH = 10_000.0
# numba's compiler logs each step of each pass at DEBUG: where logging captures everything (the tests),
# compiling the loop took 30 s instead of 3. Its warnings still come through.
if logging.getLogger("numba").level == logging.NOTSET:
    logging.getLogger("numba").setLevel(logging.WARNING)
REASONS = ("signal", "stop_loss", "take_profit", "end")


@njit(cache=True, nogil=True)
def _slip(qty, volume, model, fixed_bps, impact_bps, cap_bps):
    """The fraction the price moves against an order of `qty` on a candle of `volume`."""
    if model == 0:
        return 0.0
    bps = fixed_bps
    if model == 2:
        if volume > 0.0:
            bps += impact_bps * (qty / volume) * 100.0
        else:
            bps = cap_bps
    if bps > cap_bps:
        bps = cap_bps
    return bps / 10_000.0


@njit(cache=True, nogil=True)
def _average(value, qty, count, last):
    """A trade's average price: the fill's own price when it had one fill (value / qty can be 1 ulp off)."""
    return last if count == 1 else value / qty


@njit(cache=True, nogil=True)
def _simulate(
    open_,
    high,
    low,
    close,
    volume,
    target,
    start,
    initial_cash,
    close_at_end,
    fee,
    slip_model,
    slip_bps,
    impact_bps,
    cap_bps,
    sizing,
    fraction,
    kelly_cap,
    kelly_min,
    stop_loss,
    take_profit,
    orders,
):
    n = len(close)
    equity = np.empty(n)
    position = np.empty(n)
    # fills: bar, side (+1 buy, -1 sell), qty, price, fee, reason
    # `orders`: the targets given (non-NaN) from `start` on. Each signal fill needs one, and each stop or
    # end-of-run fill closes a round trip that one opened, so this bounds both lists without sizing them
    # by the candles (for 10M candles that was 1.7 GB of mostly untouched memory).
    cap_fills = 2 * orders + 2
    f_bar = np.empty(cap_fills, np.int64)
    f_side = np.empty(cap_fills, np.int8)
    f_qty = np.empty(cap_fills)
    f_price = np.empty(cap_fills)
    f_fee = np.empty(cap_fills)
    f_reason = np.empty(cap_fills, np.int8)
    # round trips: from flat to flat
    cap_trades = orders + 1
    t_entry = np.empty(cap_trades, np.int64)
    t_exit = np.empty(cap_trades, np.int64)
    t_entry_price = np.empty(cap_trades)
    t_exit_price = np.empty(cap_trades)
    t_qty = np.empty(cap_trades)
    t_fees = np.empty(cap_trades)
    t_pnl = np.empty(cap_trades)
    t_return = np.empty(cap_trades)
    t_equity_return = np.empty(cap_trades)
    t_reason = np.empty(cap_trades, np.int8)
    n_fills = 0
    n_trades = 0

    cash = initial_cash
    qty = 0.0
    held = 0.0
    # the open round trip
    entry_bar = -1
    bought_qty = bought_value = sold_qty = sold_value = fees = buy_fees = entry_equity = 0.0
    buys = sells = 0
    last_buy = last_sell = 0.0
    # Kelly's estimate: the strategy's own round trips, signal to signal at the open (or the stop), net
    # of fees and whatever size was actually held, so a size of 0 still learns from the signals it skips
    closed = wins = 0
    win_sum = loss_sum = 0.0
    paper_open = False
    paper_entry = 0.0

    for i in range(start, n):
        # 1. the target decided at the previous close, filled at this open
        if i > start:
            wanted = target[i - 1]
            if wanted == wanted and wanted != held:
                held = wanted
                scale = 1.0
                if sizing == 1:
                    scale = fraction
                elif sizing == 2:
                    if closed < kelly_min:
                        scale = fraction
                    elif wins == closed or loss_sum <= 0.0:
                        scale = kelly_cap
                    elif wins == 0:
                        scale = 0.0
                    else:
                        rate = wins / closed
                        payoff = (win_sum / wins) / (loss_sum / (closed - wins))
                        scale = rate - (1.0 - rate) / payoff
                        scale = min(max(scale, 0.0), kelly_cap)
                exposure = wanted * scale
                price = open_[i]
                side = 0
                amount = 0.0
                all_cash = False
                if exposure <= 0.0:
                    if qty > 0.0:
                        side = -1
                        amount = qty
                else:
                    worth = cash + qty * price
                    desired = exposure * worth
                    current = qty * price
                    if exposure >= 1.0 and sizing == 0:
                        if cash > 0.0:
                            side = 1
                            all_cash = True
                    elif desired > current * (1.0 + 1e-12):
                        side = 1
                        amount = (desired - current) / price
                    elif desired < current * (1.0 - 1e-12):
                        side = -1
                        amount = (current - desired) / price
                if side == 1:
                    if all_cash:
                        slip = _slip(cash / price, volume[i - 1], slip_model, slip_bps, impact_bps, cap_bps)
                        fill = price * (1.0 + slip)
                        amount = cash / (fill * (1.0 + fee))
                    else:
                        slip = _slip(amount, volume[i - 1], slip_model, slip_bps, impact_bps, cap_bps)
                        fill = price * (1.0 + slip)
                        affordable = cash / (fill * (1.0 + fee))
                        if amount >= affordable:
                            amount = affordable
                            all_cash = True
                    if amount > 0.0:
                        value = amount * fill
                        paid = value * fee
                        if qty == 0.0:
                            entry_bar = i
                            bought_qty = bought_value = sold_qty = sold_value = fees = buy_fees = 0.0
                            buys = sells = 0
                            entry_equity = cash
                        cash = 0.0 if all_cash else cash - value - paid
                        qty += amount
                        bought_qty += amount
                        bought_value += value
                        fees += paid
                        buy_fees += paid
                        buys += 1
                        last_buy = fill
                        f_bar[n_fills] = i
                        f_side[n_fills] = 1
                        f_qty[n_fills] = amount
                        f_price[n_fills] = fill
                        f_fee[n_fills] = paid
                        f_reason[n_fills] = 0
                        n_fills += 1
                elif side == -1:
                    if amount >= qty * (1.0 - 1e-12):
                        amount = qty
                    slip = _slip(amount, volume[i - 1], slip_model, slip_bps, impact_bps, cap_bps)
                    fill = price * (1.0 - slip)
                    value = amount * fill
                    paid = value * fee
                    cash += value - paid
                    qty = 0.0 if amount == qty else qty - amount
                    sold_qty += amount
                    sold_value += value
                    sells += 1
                    last_sell = fill
                    fees += paid
                    f_bar[n_fills] = i
                    f_side[n_fills] = -1
                    f_qty[n_fills] = amount
                    f_price[n_fills] = fill
                    f_fee[n_fills] = paid
                    f_reason[n_fills] = 0
                    n_fills += 1
                    if qty == 0.0:
                        pnl = sold_value - bought_value - fees
                        t_entry[n_trades] = entry_bar
                        t_exit[n_trades] = i
                        t_entry_price[n_trades] = _average(bought_value, bought_qty, buys, last_buy)
                        t_exit_price[n_trades] = _average(sold_value, sold_qty, sells, last_sell)
                        t_qty[n_trades] = bought_qty
                        t_fees[n_trades] = fees
                        t_pnl[n_trades] = pnl
                        t_return[n_trades] = pnl / (bought_value + buy_fees)
                        t_equity_return[n_trades] = pnl / entry_equity
                        t_reason[n_trades] = 0
                        n_trades += 1

                if wanted > 0.0 and not paper_open:
                    paper_open = True
                    paper_entry = price
                elif wanted <= 0.0 and paper_open:
                    paper_open = False
                    gain = price * (1.0 - fee) / (paper_entry * (1.0 + fee)) - 1.0
                    closed += 1
                    if gain > 0.0:
                        wins += 1
                        win_sum += gain
                    else:
                        loss_sum -= gain

        # 2. stops, within this candle; 3. the end of the run
        if qty > 0.0:
            exit_price = -1.0
            reason = 0
            average = bought_value / bought_qty
            if stop_loss > 0.0:
                level = average * (1.0 - stop_loss)
                if open_[i] <= level:
                    exit_price, reason = open_[i], 1
                elif low[i] <= level:
                    exit_price, reason = level, 1
            if exit_price < 0.0 and take_profit > 0.0:
                level = average * (1.0 + take_profit)
                if open_[i] >= level:
                    exit_price, reason = open_[i], 2
                elif high[i] >= level:
                    exit_price, reason = level, 2
            if exit_price < 0.0 and close_at_end and i == n - 1:
                exit_price, reason = close[i], 3
            if exit_price >= 0.0:
                amount = qty
                slip = _slip(amount, volume[i - 1], slip_model, slip_bps, impact_bps, cap_bps)
                fill = exit_price * (1.0 - slip)
                value = amount * fill
                paid = value * fee
                cash += value - paid
                qty = 0.0
                sold_qty += amount
                sold_value += value
                sells += 1
                last_sell = fill
                fees += paid
                f_bar[n_fills] = i
                f_side[n_fills] = -1
                f_qty[n_fills] = amount
                f_price[n_fills] = fill
                f_fee[n_fills] = paid
                f_reason[n_fills] = reason
                n_fills += 1
                if paper_open:
                    paper_open = False
                    gain = exit_price * (1.0 - fee) / (paper_entry * (1.0 + fee)) - 1.0
                    closed += 1
                    if gain > 0.0:
                        wins += 1
                        win_sum += gain
                    else:
                        loss_sum -= gain
                pnl = sold_value - bought_value - fees
                t_entry[n_trades] = entry_bar
                t_exit[n_trades] = i
                t_entry_price[n_trades] = _average(bought_value, bought_qty, buys, last_buy)
                t_exit_price[n_trades] = _average(sold_value, sold_qty, sells, last_sell)
                t_qty[n_trades] = bought_qty
                t_fees[n_trades] = fees
                t_pnl[n_trades] = pnl
                t_return[n_trades] = pnl / (bought_value + buy_fees)
                t_equity_return[n_trades] = pnl / entry_equity
                t_reason[n_trades] = reason
                n_trades += 1

        equity[i] = cash + qty * close[i]
        position[i] = qty

    # a round trip still open at the end: marked at the last close, exit -1
    open_trade = qty > 0.0
    if open_trade:
        value = qty * close[n - 1]
        pnl = sold_value + value - bought_value - fees
        t_entry[n_trades] = entry_bar
        t_exit[n_trades] = -1
        t_entry_price[n_trades] = _average(bought_value, bought_qty, buys, last_buy)
        t_exit_price[n_trades] = close[n - 1]
        t_qty[n_trades] = bought_qty
        t_fees[n_trades] = fees
        t_pnl[n_trades] = pnl
        t_return[n_trades] = pnl / (bought_value + buy_fees)
        t_equity_return[n_trades] = pnl / entry_equity
        t_reason[n_trades] = 3
        n_trades += 1
    return (
        equity,
        position,
        cash,
        f_bar[:n_fills],
        f_side[:n_fills],
        f_qty[:n_fills],
        f_price[:n_fills],
        f_fee[:n_fills],
        f_reason[:n_fills],
        t_entry[:n_trades],
        t_exit[:n_trades],
        t_entry_price[:n_trades],
        t_exit_price[:n_trades],
        t_qty[:n_trades],
        t_fees[:n_trades],
        t_pnl[:n_trades],
        t_return[:n_trades],
        t_equity_return[:n_trades],
        t_reason[:n_trades],
    )


@dataclass(frozen=True)
class Fill:
    time: int  # ms, the candle's open time
    side: str  # "buy" | "sell"
    qty: float
    price: float
    fee: float
    reason: str


@dataclass(frozen=True)
class Trade:
    """A round trip from flat to flat; `exit_time` None while still open at the end (marked at the close)."""

    entry_time: int
    entry_price: float  # average buy price
    exit_time: int | None
    exit_price: float  # average sell price (the last close while open)
    qty: float  # bought in all
    fees: float
    pnl: float
    return_pct: float  # pnl / (cost + entry fees), a fraction
    equity_return: float  # pnl / equity when the trade opened (what Monte Carlo resamples)
    reason: str  # how it ended: signal, stop_loss, take_profit, end (closed or marked at the end)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    candles: Candles
    strategy: str
    params: dict[str, Any]
    execution: ExecutionModel
    initial_cash: float
    start: int  # the first candle traded (0 unless a warm-up was given)
    equity: np.ndarray  # at each close from `start` on
    position: np.ndarray  # qty held at each close
    benchmark: np.ndarray  # buy and hold: all in at the first traded candle's open, same fee and slippage
    cash: float
    fill_arrays: tuple[np.ndarray, ...] = field(repr=False)
    trade_arrays: tuple[np.ndarray, ...] = field(repr=False)

    @property
    def final_equity(self) -> float:
        return float(self.equity[-1]) if len(self.equity) else self.initial_cash

    @property
    def times(self) -> np.ndarray:
        return self.candles.time[self.start :]

    @property
    def closed_trade_returns(self) -> np.ndarray:
        exits, returns = self.trade_arrays[1], self.trade_arrays[7]
        return returns[exits >= 0]

    @property
    def closed_equity_returns(self) -> np.ndarray:
        exits, returns = self.trade_arrays[1], self.trade_arrays[8]
        return returns[exits >= 0]

    @cached_property
    def fills(self) -> list[Fill]:
        bars, sides, qtys, prices, fees, reasons = (array.tolist() for array in self.fill_arrays)
        times = self.candles.time
        return [
            Fill(int(times[bar]), "buy" if side > 0 else "sell", qty, price, fee, REASONS[reason])
            for bar, side, qty, price, fee, reason in zip(bars, sides, qtys, prices, fees, reasons, strict=True)
        ]

    @cached_property
    def trades(self) -> list[Trade]:
        columns = [array.tolist() for array in self.trade_arrays]
        times = self.candles.time
        return [
            Trade(
                int(times[entry]),
                entry_price,
                int(times[exit_bar]) if exit_bar >= 0 else None,
                exit_price,
                qty,
                fees,
                pnl,
                ret,
                equity_ret,
                REASONS[reason],
            )
            for entry, exit_bar, entry_price, exit_price, qty, fees, pnl, ret, equity_ret, reason in zip(
                *columns, strict=True
            )
        ]

    @cached_property
    def returns(self) -> np.ndarray:
        """Per-candle returns of the equity, the first from the initial cash."""
        return np.diff(self.equity, prepend=self.initial_cash) / np.concatenate(([self.initial_cash], self.equity[:-1]))

    @cached_property
    def benchmark_returns(self) -> np.ndarray:
        return np.diff(self.benchmark, prepend=self.initial_cash) / np.concatenate(
            ([self.initial_cash], self.benchmark[:-1])
        )

    @property
    def exposure(self) -> float:
        """The fraction of candles closed holding a position (time in the market)."""
        return float(np.count_nonzero(self.position > 0) / len(self.position)) if len(self.position) else 0.0

    @property
    def average_exposure(self) -> float:
        """The mean share of equity held in the asset at the closes."""
        if not len(self.position):
            return 0.0
        held = self.position * self.candles.close[self.start :]
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = np.where(self.equity > 0, held / self.equity, 0.0)
        return float(shares.mean())

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """analytics.metrics on the per-candle returns (annualised with the candles' periods per year,
        beta against buy and hold of the same asset), the closed trades' statistics, and the run's own
        figures (final equity, exposure, trades, the benchmark's return)."""
        from analytics.metrics import metrics_summary, trade_stats

        periods = self.candles.periods_per_year
        summary = dict(
            metrics_summary(self.returns, periods_per_year=periods, benchmark_returns=self.benchmark_returns)
        )
        stats = trade_stats(self.closed_trade_returns)
        summary |= {
            "trades": stats.count,
            "win_rate": stats.win_rate,
            "profit_factor": stats.profit_factor,
            "expectancy": stats.expectancy,
            "kelly_fraction": stats.kelly_fraction,
        }
        summary |= self.figures()
        return summary

    def figures(self) -> dict[str, Any]:
        """What needs no metrics module: cheap enough for every optimisation run."""
        benchmark_final = float(self.benchmark[-1]) if len(self.benchmark) else self.initial_cash
        return {
            "initial_cash": self.initial_cash,
            "final_equity": self.final_equity,
            "net_return": self.final_equity / self.initial_cash - 1.0,
            "benchmark_final_equity": benchmark_final,
            "benchmark_return": benchmark_final / self.initial_cash - 1.0,
            "exposure": self.exposure,
            "average_exposure": self.average_exposure,
            "fees": float(self.fill_arrays[4].sum()),
            "fills": len(self.fill_arrays[0]),
            "round_trips": int(np.count_nonzero(self.trade_arrays[1] >= 0)),
        }


def run_backtest(
    candles: Candles,
    strategy: Strategy | str,
    params: Params | dict[str, Any] | None = None,
    execution: ExecutionModel | None = None,
    *,
    initial_cash: float = DEFAULT_INITIAL_CASH,
    start: int = 0,
    close_at_end: bool = False,
    targets: np.ndarray | None = None,
) -> BacktestResult:
    """Backtest `strategy` (a registered name or instance) with `params` (checked: a dict is parsed, so
    bad input is a ValidationError per field) on `candles`, filled by `execution` (default: the simple
    model). Signals use every candle given; trading starts at candle `start` (earlier ones are warm-up),
    and the first fill can be at `start + 1`'s open. `close_at_end` sells what is held at the last close
    (fee and slippage charged) instead of marking it there. `targets` skips computing them (the optimiser
    reuses them when only the execution differs)."""
    if isinstance(strategy, str):
        strategy = get_strategy(strategy)
    if not isinstance(params, Params):
        params = strategy.parse(params)
    execution = execution or SIMPLE
    if not 0 <= start < len(candles):
        raise ValueError(f"start {start} is outside the {len(candles)} candles")
    if not initial_cash > 0:
        raise ValueError("the initial cash must be positive")
    if targets is None:
        targets = strategy.targets(candles, params)
    targets = np.ascontiguousarray(targets, dtype=np.float64)
    if len(targets) != len(candles):
        raise ValueError("a strategy must answer one target per candle")
    args = execution.kernel_args()
    (equity, position, cash, *rest) = _simulate(
        candles.open,
        candles.high,
        candles.low,
        candles.close,
        candles.volume,
        targets,
        start,
        float(initial_cash),
        close_at_end,
        *args,
        int(np.count_nonzero(~np.isnan(targets[start:]))),
    )
    fill_arrays, trade_arrays = tuple(rest[:6]), tuple(rest[6:])
    return BacktestResult(
        candles=candles,
        strategy=strategy.name,
        params=params.as_dict(),
        execution=execution,
        initial_cash=float(initial_cash),
        start=start,
        equity=equity[start:],
        position=position[start:],
        benchmark=buy_and_hold(candles, execution, initial_cash=initial_cash, start=start),
        cash=float(cash),
        fill_arrays=fill_arrays,
        trade_arrays=trade_arrays,
    )


def buy_and_hold(
    candles: Candles,
    execution: ExecutionModel | None = None,
    *,
    initial_cash: float = DEFAULT_INITIAL_CASH,
    start: int = 0,
) -> np.ndarray:
    """Equity of buying all in at candle `start`'s open (the fee and fixed slippage charged) and holding."""
    execution = execution or SIMPLE
    if start >= len(candles):
        return np.empty(0)
    slip = execution.slippage_bps / 10_000 if execution.slippage != "none" else 0.0
    qty = initial_cash / (candles.open[start] * (1 + slip) * (1 + execution.fee))
    return qty * candles.close[start:]
