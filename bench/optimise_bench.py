"""Benchmark 11: a parameter optimisation on 1 and on 2 Celery workers (the speed-up from adding one).

The issue's claim: an optimisation is split into Celery tasks (a chord of parameter chunks, candles
loaded once per chunk), so adding worker machines speeds it up with no code change. Here each "machine"
is a worker process with concurrency 1 on this 2-core host, consuming the bench's own queue; the job is
created through `analytics.services.backtest_create` exactly as the page and the API create it, and the
clock runs from the commit to the job's `done` in the database.

Data: BTC/USDT 1h candles from ../shared/data (about 24,000), imported into the bench database. Search:
SMA crossover, a grid of fast x slow periods (`--sets` about 1,500 valid ones), ranked by Sharpe.

    .venv/bin/python bench/optimise_bench.py [--sets 1500] [--rounds 2] [--label full]

Writes bench/results/optimise-<label>.json. Needs PostgreSQL and Redis on loopback (bench/common.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench.common import BASE_DIR, PYTHON, bench_env, ensure_database  # noqa: E402

QUEUE = "bench-optimise"
RESULTS = BENCH / "results"
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
)


def environment() -> dict[str, str]:
    return bench_env(BACKTEST_TASK_QUEUE=QUEUE, BACKTEST_TASKS_EAGER="false", BACKTEST_OPTIMISE_CHUNKS="16")


def setup_django() -> None:
    os.environ.update(environment())
    import django

    django.setup()


def start_workers(count: int) -> list[subprocess.Popen]:
    """`count` workers of concurrency 1 on the bench queue: `count` machines of one core each."""
    workers = []
    for index in range(count):
        workers.append(
            subprocess.Popen(
                [
                    str(Path(PYTHON).parent / "celery"), "-A", "cryptovault", "worker", "-Q", QUEUE,
                    "--concurrency", "1", "--pool", "prefork", "-n", f"bench{index}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING",
                ],
                cwd=BASE_DIR,
                env=environment(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
    time.sleep(8)  # Django start-up and the broker connection of each worker
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def candles_ready() -> tuple[datetime, datetime, int]:
    from exchanges.market.candles import import_candles_csv
    from exchanges.models import Candle

    stored = Candle.objects.filter(symbol="BTC/USDT", timeframe="1h")
    if stored.count() < 20_000:
        import_candles_csv(path=SHARED_1H / "BTCUSDT_1h.csv.gz", symbol="BTC/USDT", timeframe="1h")
    first = stored.order_by("open_time").first()
    last = stored.order_by("-open_time").first()
    return first.open_time, last.open_time, stored.count()


def grid(sets: int) -> dict[str, list[int]]:
    """A fast x slow grid holding about `sets` valid (fast < slow) combinations."""
    fast = list(range(2, 62, 2))
    slow_count = max(2, sets // len(fast))
    slow = [70 + 5 * index for index in range(slow_count)]
    return {"fast": fast, "slow": slow}


def run_once(user, start: datetime, end: datetime, space: dict[str, list[int]]) -> float:
    from analytics.models import Backtest
    from analytics.services import backtest_create
    from cryptovault.actor import Actor

    began = time.perf_counter()
    backtest = backtest_create(
        actor=Actor.for_command("optimise_bench", user=user),
        user=user,
        strategy="sma_cross",
        symbol="BTC/USDT",
        timeframe="1h",
        start=start,
        end=end,
        kind="optimisation",
        search={"method": "grid", "space": space, "metric": "sharpe"},
    )
    while True:
        backtest.refresh_from_db(fields=["status", "error"])
        if backtest.status in ("done", "failed", "cancelled"):
            break
        if time.perf_counter() - began > 1800:
            raise TimeoutError("the optimisation did not finish in 30 minutes")
        time.sleep(0.05)
    if backtest.status != "done":
        raise RuntimeError(f"the optimisation ended {backtest.status}: {Backtest.objects.get(pk=backtest.pk).error}")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--label", default="full")
    args = parser.parse_args()

    ensure_database()
    setup_django()
    from accounts.models import User

    user, _ = User.objects.get_or_create(email="optimise-bench@example.com")
    start, end, count = candles_ready()
    space = grid(args.sets)
    valid = sum(1 for fast in space["fast"] for slow in space["slow"] if fast < slow)
    print(f"{count:,} BTC/USDT 1h candles; {valid:,} parameter sets; 16 chunks", flush=True)
    report: dict = {
        "label": args.label,
        "case": "SMA crossover grid search, ranked by Sharpe, through analytics.services.backtest_create",
        "candles": count,
        "parameter_sets": valid,
        "chunks": 16,
        "cpu": platform.machine(),
        "cores": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "runs": {},
    }
    for workers_count in (1, 2):
        workers = start_workers(workers_count)
        try:
            run_once(user, start, end, {"fast": [5, 10], "slow": [100, 200]})  # warm-up: numba, imports
            times = [run_once(user, start, end, space) for _ in range(args.rounds)]
        finally:
            stop_workers(workers)
        report["runs"][str(workers_count)] = {"seconds": times, "median": statistics.median(times)}
        print(f"{workers_count} worker(s): {', '.join(f'{t:.2f} s' for t in times)}", flush=True)
    one, two = report["runs"]["1"]["median"], report["runs"]["2"]["median"]
    report["speed_up"] = one / two
    report["sets_per_second"] = {"1": valid / one, "2": valid / two}
    report["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"optimise-{args.label}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"speed-up 1 -> 2 workers: {one / two:.2f}x ({valid / one:.0f} -> {valid / two:.0f} sets/s)")


if __name__ == "__main__":
    main()
