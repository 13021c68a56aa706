"""`pytest bench -k backtest`: a short run of bench/backtest_bench.py (100,000 candles; backtrader on 20,000).

Checks the benchmark still works and still compares like with like: backtrader made the same fills and
final value as our engine (the script refuses to go on otherwise), and vectorbt, given our signals, the
same number of orders and final value to 1e-9. Speed is reported, not asserted, as in the other
benchmarks: it depends on the machine's load. The first run also compiles vectorbt's numba functions
(about a minute; cached afterwards).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent
SHARED_1H = next(
    (
        path / "binance-1h"
        for path in (
            Path(os.environ.get("CRYPTOVAULT_SHARED_DATA", "-")),
            BENCH.parent.parent / "shared" / "data",
            Path("/work/shared/data"),
        )
        if (path / "binance-1h").is_dir()
    ),
    BENCH.parent.parent / "shared" / "data" / "binance-1h",
)  # ../shared/data beside the checkout, or CRYPTOVAULT_SHARED_DATA, or the workplace's copy


@pytest.mark.skipif(not SHARED_1H.is_dir(), reason="../shared/data/binance-1h is not beside the checkout")
@pytest.mark.timeout(900)
def test_backtest_engine_runs_the_same_trades_as_vectorbt_and_backtrader():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, str(BENCH / "backtest_bench.py"), "--sizes", "100000", "--backtrader-size", "20000",
         "--rounds", "1", "--label", "smoke"],
        cwd=BENCH.parent, env=env, capture_output=True, text=True, timeout=880,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((BENCH / "results" / "backtest-smoke.json").read_text())
    (row,) = report["rows"]
    assert row["fills"] > 1000
    assert row["vectorbt_same_signals_agrees"], row
    assert report["backtrader"]["fills"] > 0
    print(proc.stdout)
