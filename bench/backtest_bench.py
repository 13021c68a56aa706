"""Benchmark 9: the backtesting engine against vectorbt and backtrader, same data, same rules, one run.

    .venv/bin/python bench/backtest_bench.py                         # 100k, 1M and 10M candles
    .venv/bin/python bench/backtest_bench.py --sizes 100000 --backtrader-size 20000 --rounds 1 --label smoke
    .venv/bin/python -m pytest bench/backtest_bench.py               # the same cases through pytest-benchmark

The case (the issue's): SMA(10/30) crossover, long-only, all in, 0.1% fee per side, signal at a close
filled at the next open, final equity = cash + qty x last close, on N one-minute candles.

The candles. The shared data has no one-minute candles, so the series is made of real ones: the ten
symbols' 1h Binance candles (../shared/data/binance-1h, 2021-04 to 2023-12, 239,8xx closed candles)
placed end to end (BTC, ETH, BNB, SOL, XRP, ADA, DOGE, AVAX, DOT, LINK), repeated until N, and
relabelled one minute apart. Every candle is a real recorded candle; what is made up is only the
spacing and the seams (one price jump where one symbol's series meets the next, about 40 in 10M
candles). A crossover neither knows nor cares what a bar's duration is.

What is timed (wall clock, `time.perf_counter`, median of --rounds after one untimed warm-up run, so
numba's one-off compilation is left out and reported on its own):
- ours: `run_backtest(candles, "sma_cross", {"fast": 10, "slow": 30})`: the SMAs (analytics.indicators),
  the crossings, the compiled fill loop, the equity curve and the trade records;
- vectorbt, idiomatic: `vbt.MA.run` x2, `ma_crossed_above/below`, then `Portfolio.from_signals` (next-open
  fills: signals shifted one bar, price = open, size = inf, fees = 0.001), and its final value;
- vectorbt, same signals: `Portfolio.from_signals` alone on our entries and exits (its fill simulation
  only), to separate the signal work from the portfolio work. Checked outside the timing: its orders are
  our fills (candle and price, exactly) and its equity curve ours to 1e-9 relative, for as long as our
  equity stays above 1e-6 of the initial cash. This losing strategy pays 0.2% a round trip tens of
  thousands of times, which takes equity to 1e-8 and below in the 1M and 10M runs, where vectorbt stops
  filling orders its tolerances call empty; the JSON says how many candles and fills were compared;
- backtrader: the strategy of tests/analytics/test_backtest_backtrader.py (the one that gives our trades
  exactly) on --backtrader-size candles, once (it is slow), extrapolated linearly to the larger sizes:
  its cost per candle is flat (an event loop over bars), and the table says "extrapolated".

Prints a table and writes bench/results/backtest-<label>.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptovault.settings")

import numpy as np

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results"
SHARED_1H = next(
    (
        path / "binance-1h"
        for path in (
            Path(os.environ.get("CRYPTOVAULT_SHARED_DATA", "-")),
            BASE_DIR.parent / "shared" / "data",
            Path("/work/shared/data"),
        )
        if (path / "binance-1h").is_dir()
    ),
    BASE_DIR.parent / "shared" / "data" / "binance-1h",
)  # ../shared/data beside the checkout, or CRYPTOVAULT_SHARED_DATA, or the workplace's copy
SYMBOLS = ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")
FAST, SLOW, FEE, CASH = 10, 30, 0.001, 10_000.0
MINUTE_MS = 60_000


def real_hourly_chain():
    """The ten symbols' closed 1h candles end to end (Candles)."""
    from analytics.backtest.candles import Candles, from_csv

    parts = [from_csv(SHARED_1H / f"{base}USDT_1h.csv.gz") for base in SYMBOLS]
    columns = [
        np.concatenate([getattr(part, name) for part in parts]) for name in ("open", "high", "low", "close", "volume")
    ]
    return Candles(np.arange(len(columns[0]), dtype=np.int64) * MINUTE_MS, *columns, "CHAIN/USDT", "1m")


def minute_candles(count: int, chain=None):
    """`count` candles: the chain repeated, times one minute apart from 0."""
    from analytics.backtest.candles import Candles

    chain = chain or real_hourly_chain()
    repeats = -(-count // len(chain))
    columns = [np.tile(getattr(chain, name), repeats)[:count] for name in ("open", "high", "low", "close", "volume")]
    return Candles(np.arange(count, dtype=np.int64) * MINUTE_MS, *columns, "CHAIN/USDT", "1m")


# --- the three contenders ------------------------------------------------------------------------------


def ours(candles):
    from analytics.backtest.engine import run_backtest

    result = run_backtest(candles, "sma_cross", {"fast": FAST, "slow": SLOW}, initial_cash=CASH)
    return result.final_equity, len(result.fill_arrays[0])


def our_signals(candles):
    """Our entries and exits (bool arrays, at the signal bar)."""
    from analytics.backtest.strategies import get_strategy

    strategy = get_strategy("sma_cross")
    targets = strategy.targets(candles, strategy.parse({"fast": FAST, "slow": SLOW}))
    return targets == 1.0, targets == 0.0


def _next_open(signal):
    shifted = np.zeros_like(signal)
    shifted[1:] = signal[:-1]
    return shifted


def vectorbt_idiomatic(candles):
    import pandas as pd
    import vectorbt as vbt

    close = pd.Series(candles.close)
    fast = vbt.MA.run(close, FAST)
    slow = vbt.MA.run(close, SLOW)
    entries = fast.ma_crossed_above(slow).to_numpy()
    exits = fast.ma_crossed_below(slow).to_numpy()
    portfolio = vbt.Portfolio.from_signals(
        close,
        _next_open(entries),
        _next_open(exits),
        price=candles.open,
        size=np.inf,
        fees=FEE,
        init_cash=CASH,
        freq="1min",
    )
    return float(portfolio.final_value()), int(portfolio.orders.count())


def vectorbt_same_signals(candles, signals):
    import vectorbt as vbt

    entries, exits = signals
    portfolio = vbt.Portfolio.from_signals(
        candles.close, _next_open(entries), _next_open(exits), price=candles.open, size=np.inf, fees=FEE,
        init_cash=CASH, freq="1min",
    )  # fmt: skip
    return float(portfolio.final_value()), int(portfolio.orders.count()), portfolio


def same_job(candles, portfolio, floor: float) -> dict:
    """Does vectorbt, given our signals, make our fills and our equity curve? Compared wherever our equity
    is above `floor`: a losing strategy trading tens of thousands of times takes equity to 1e-8 and below
    (0.999 ** 40,000 is 4e-18), where vectorbt stops filling orders its tolerances call empty."""
    from analytics.backtest.engine import run_backtest

    result = run_backtest(candles, "sma_cross", {"fast": FAST, "slow": SLOW}, initial_cash=CASH)
    value = portfolio.value().to_numpy()
    above = result.equity >= floor
    last = len(above) - 1 if above.all() else int(np.argmin(above)) - 1
    records = portfolio.orders.records
    ours_bars, ours_prices = result.fill_arrays[0], result.fill_arrays[3]
    ours_count = int(np.count_nonzero(ours_bars <= last))
    theirs = records[records["idx"] <= last]
    fills_equal = len(theirs) == ours_count and bool(
        np.array_equal(theirs["idx"], ours_bars[:ours_count])
        and np.array_equal(theirs["price"], ours_prices[:ours_count])
    )
    equity_rel = float(np.max(np.abs(value[: last + 1] / result.equity[: last + 1] - 1.0)))
    return {
        "compared_candles": last + 1,
        "compared_fills": ours_count,
        "fills_identical": fills_equal,
        "equity_max_rel_diff": equity_rel,
        "agrees": fills_equal and equity_rel < 1e-9,
        "floor": floor,
    }


def backtrader_run(candles):
    import backtrader as bt

    sys.path.insert(0, str(BASE_DIR))
    from tests.analytics.test_backtest_backtrader import ArrayFeed, SmaCrossNextOpen

    cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
    cerebro.adddata(ArrayFeed(candles=candles))
    cerebro.addstrategy(SmaCrossNextOpen, fast=FAST, slow=SLOW)
    cerebro.broker.setcash(CASH)
    cerebro.broker.setcommission(commission=FEE)
    cerebro.broker.set_checksubmit(False)
    (strategy,) = cerebro.run()
    return strategy.broker.getvalue(), len(strategy.fills)


def timed(function, *args, rounds: int):
    seconds, answer = [], None
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        answer = function(*args)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), answer


def run(sizes: list[int], backtrader_size: int, rounds: int, label: str) -> dict:
    import django

    django.setup()
    import numba
    import vectorbt

    started = time.perf_counter()
    chain = real_hourly_chain()
    print(f"real 1h candles chained: {len(chain):,} ({time.perf_counter() - started:.1f} s to read)")
    warm = minute_candles(5_000, chain)
    compile_started = time.perf_counter()
    ours(warm)
    ours_compile = time.perf_counter() - compile_started
    compile_started = time.perf_counter()
    vectorbt_idiomatic(warm)
    vectorbt_same_signals(warm, our_signals(warm))
    vectorbt_compile = time.perf_counter() - compile_started

    rows = []
    bt_candles = minute_candles(backtrader_size, chain)
    bt_seconds, (bt_equity, bt_fills) = timed(backtrader_run, bt_candles, rounds=1)
    our_bt_equity, our_bt_fills = ours(bt_candles)
    assert bt_fills == our_bt_fills and abs(bt_equity / our_bt_equity - 1) < 1e-9, (bt_equity, our_bt_equity)
    bt_per_candle = bt_seconds / backtrader_size
    for size in sizes:
        candles = minute_candles(size, chain)
        our_seconds, (our_equity, our_fills) = timed(ours, candles, rounds=rounds)
        vbt_seconds, (vbt_equity, vbt_orders) = timed(vectorbt_idiomatic, candles, rounds=rounds)
        signals = our_signals(candles)
        same_seconds, (same_equity, same_orders, portfolio) = timed(
            vectorbt_same_signals, candles, signals, rounds=rounds
        )
        same = same_job(candles, portfolio, floor=CASH * 1e-6)
        del portfolio
        backtrader_seconds = bt_seconds if size == backtrader_size else bt_per_candle * size
        row = {
            "candles": size,
            "fills": our_fills,
            "ours_s": our_seconds,
            "ours_candles_per_s": size / our_seconds,
            "vectorbt_s": vbt_seconds,
            "vectorbt_candles_per_s": size / vbt_seconds,
            "vectorbt_orders": vbt_orders,
            "vectorbt_final_value": vbt_equity,
            "vectorbt_same_signals_s": same_seconds,
            "vectorbt_same_signals_orders": same_orders,
            "vectorbt_same_signals_final_value": same_equity,
            "vectorbt_same_signals_check": same,
            "vectorbt_same_signals_agrees": same["agrees"],
            "backtrader_s": backtrader_seconds,
            "backtrader_measured": size == backtrader_size,
            "backtrader_candles_per_s": size / backtrader_seconds,
            "our_final_equity": our_equity,
            "speedup_vs_vectorbt": vbt_seconds / our_seconds,
            "speedup_vs_vectorbt_same_signals": same_seconds / our_seconds,
            "speedup_vs_backtrader": backtrader_seconds / our_seconds,
        }
        rows.append(row)
        del candles, signals
        gc.collect()
    report = {
        "label": label,
        "case": f"SMA({FAST}/{SLOW}) crossover, long-only, all in, {FEE:.1%} fee per side, next-open fills",
        "candles": "the ten symbols' real 1h candles (shared/data/binance-1h) end to end, repeated, a minute apart",
        "rounds": rounds,
        "backtrader": {"candles": backtrader_size, "seconds": bt_seconds, "fills": bt_fills, "final_value": bt_equity},
        "compile_s": {"ours_first_call": ours_compile, "vectorbt_first_calls": vectorbt_compile},
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "numba": numba.__version__,
            "vectorbt": vectorbt.__version__,
            "backtrader": __import__("backtrader").__version__,
        },
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "rows": rows,
    }
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"backtest-{label}.json").write_text(json.dumps(report, indent=2))
    return report


def print_table(report: dict) -> None:
    print(report["case"])
    print(
        f"backtrader measured on {report['backtrader']['candles']:,} candles: {report['backtrader']['seconds']:.2f} s"
    )
    header = (
        f"{'candles':>12} {'fills':>8} {'ours s':>9} {'ours c/s':>12} {'vbt s':>9} {'vbt c/s':>12} "
        f"{'vbt(sig) s':>10} {'bt s':>10} {'x vbt':>6} {'x vbt(sig)':>10} {'x bt':>7}"
    )
    print(header)
    for row in report["rows"]:
        bt_note = "" if row["backtrader_measured"] else "*"
        print(
            f"{row['candles']:>12,} {row['fills']:>8,} {row['ours_s']:>9.4f} {row['ours_candles_per_s']:>12,.0f} "
            f"{row['vectorbt_s']:>9.4f} {row['vectorbt_candles_per_s']:>12,.0f} "
            f"{row['vectorbt_same_signals_s']:>10.4f} "
            f"{row['backtrader_s']:>9.2f}{bt_note:1} {row['speedup_vs_vectorbt']:>6.1f} "
            f"{row['speedup_vs_vectorbt_same_signals']:>10.1f} {row['speedup_vs_backtrader']:>7,.0f}"
        )
    print("* backtrader extrapolated linearly from the measured size")
    compiled = report["compile_s"]
    ours_s, vectorbt_s = compiled["ours_first_call"], compiled["vectorbt_first_calls"]
    print(f"first-call compile: ours {ours_s:.2f} s, vectorbt {vectorbt_s:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--backtrader-size", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="full")
    args = parser.parse_args()
    run([int(size) for size in args.sizes.split(",")], args.backtrader_size, args.rounds, args.label)


# --- through pytest-benchmark: .venv/bin/python -m pytest bench/backtest_bench.py ---------------------

if "pytest" in sys.modules:
    import pytest

    SIZES = [int(size) for size in os.environ.get("BACKTEST_BENCH_SIZES", "100000,1000000").split(",")]

    @pytest.fixture(scope="module")
    def chain():
        return real_hourly_chain()

    @pytest.mark.parametrize("size", SIZES)
    def test_ours(benchmark, chain, size):
        candles = minute_candles(size, chain)
        ours(candles[:5000])
        _equity, fills = benchmark(ours, candles)
        assert fills > 0

    @pytest.mark.parametrize("size", SIZES)
    def test_vectorbt(benchmark, chain, size):
        candles = minute_candles(size, chain)
        vectorbt_idiomatic(candles[:5000])
        benchmark(vectorbt_idiomatic, candles)

    def test_backtrader_100k(benchmark, chain):
        candles = minute_candles(100_000, chain)
        benchmark.pedantic(backtrader_run, args=(candles,), rounds=1, iterations=1)


if __name__ == "__main__":
    main()
