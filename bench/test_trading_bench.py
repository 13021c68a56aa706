"""`make bench` for benchmark 8 (trading, issue 11): short, bounded runs of bench/trading_bench.py.

Each runs the script in a subprocess against the bench database on PostgreSQL and checks what the
figures rest on: every paper order filled and the books add up after concurrent placement; the
portfolio trader's ledger checks clean; the portfolio answers with a constant number of SQL queries
for 50 assets and for one; every wrk run answered 200. No latency or throughput is asserted: those
depend on the machine's load (BENCHMARKS.md, section 8). BENCH_FULL=1 runs the full lengths.
Skipped when PostgreSQL or Redis is not available (and the portfolio half without wrk).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent
FULL = os.environ.get("BENCH_FULL") == "1"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


pytestmark = [
    pytest.mark.skipif(not _listening(5432), reason="PostgreSQL is not listening on 127.0.0.1:5432"),
    pytest.mark.skipif(not _listening(6379), reason="Redis is not listening on 127.0.0.1:6379"),
]


def _run(*args: str, timeout: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    proc = subprocess.run(
        [sys.executable, str(BENCH / "trading_bench.py"), *args],
        cwd=BENCH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    label = args[args.index("--label") + 1]
    return json.loads((BENCH / "results" / f"trading-{args[0]}-{label}.json").read_text())


@pytest.mark.timeout(1800 if FULL else 240)
def test_paper_orders_through_the_service_layer_fill_and_the_books_add_up():
    smoke = ["--orders", "64", "--parts", "10", "--label", "smoke"]
    result = _run("orders", *(["--label", "full"] if FULL else smoke), timeout=1700 if FULL else 230)
    phases = {row["phase"]: row for row in result["rows"]}
    assert set(phases) == {"1 thread, 1 account", "8 threads, 8 accounts", "8 threads, 1 account"}, phases
    for row in phases.values():
        assert row["orders"] > 0 and row["orders_per_s"] > 0, row
    books = result["books"]
    assert books["not_filled"] == 0 and books["drift"] == [], books
    assert books["fills"] == books["orders"], "one fill per market order"
    assert result["sql_per_order"]["buy"] == result["sql_per_order"]["sell"], result["sql_per_order"]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")
@pytest.mark.timeout(1800 if FULL else 300)
def test_the_portfolio_of_a_busy_trader_costs_the_queries_of_a_new_one():
    smoke = ["--orders", "300", "--through-service", "40", "--duration", "2", "--repeat", "1", "--label", "smoke"]
    result = _run("portfolio", *(["--label", "full"] if FULL else smoke), timeout=1700 if FULL else 290)
    trader = result["trader"]
    assert trader["assets"] == 50 and trader["orders"] >= (10_000 if FULL else 300), trader
    assert trader["ledger_check"] == "ok"
    busy, new = result["in_process"]["busy"], result["in_process"]["one asset"]
    assert busy["holdings"] == 50 and new["holdings"] == 1
    assert busy["sql_queries"] == new["sql_queries"] <= 3, result["in_process"]
    assert {row["case"] for row in result["rows"]} == {"bare drf", "me (jwt)", "portfolio (jwt)"}
    for row in result["rows"]:
        assert row["rps"] > 0 and row["errors_all"] == [0] * len(row["errors_all"]), row
