"""HTTP throughput with wrk: gunicorn (WSGI) vs uvicorn (ASGI), and DB pool vs no pool.

    .venv/bin/python bench/http_bench.py servers   # benchmark 1: gunicorn vs uvicorn
    .venv/bin/python bench/http_bench.py pool      # benchmark 2: psycopg pool vs none
    .venv/bin/python bench/http_bench.py all --duration 10 --connections 32

Each (server, endpoint) pair gets --repeat bounded wrk runs (-t2 -cN -dDs), interleaved
across servers; every run is printed as a Markdown row, and the median run of each pair is
written to bench/results/<suite>.json (with all runs' req/s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, bench_env, ensure_database, server, wrk

RESULTS = BASE_DIR / "bench" / "results"

ENDPOINTS = {
    "/health": "no I/O (liveness)",
    "/api/v1/": "DRF view + anon throttle (Redis cache get/set), no DB",
    "/bench/db": "one ORM query (SELECT COUNT(*) FROM users) through the DB settings under test",
}

POOL_VARIANTS = {
    "pool": "bench.settings_bench",  # cryptovault.settings as is: psycopg pool min 2 / max 20
    "no pool": "bench.settings_nopool",  # new connection per request (CONN_MAX_AGE=0)
    "persistent": "bench.settings_persistent",  # CONN_MAX_AGE=600, for reference
}


def _row(label: str, endpoint: str, result: dict) -> dict:
    return {
        "server": label,
        "endpoint": endpoint,
        "rps": result["rps"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "requests": result["requests"],
        "non2xx": result["non2xx"],
        "socket_errors": result["socket_errors"],
        "load1_before": result["load1_before"],
    }


def _measure(base: str, endpoint: str, args) -> dict:
    load1 = os.getloadavg()[0]
    result = wrk(base + endpoint, threads=args.threads, connections=args.connections, duration=args.duration)
    result["load1_before"] = round(load1, 2)
    return result


def _interleaved(targets: dict[str, str], endpoints: list[str], args) -> list[dict]:
    """Load every (target, endpoint) --repeat times, alternating targets (A B A B ...).

    All servers stay up at once (idle ones cost no CPU), so drift in the machine's load
    (other processes) spreads over every variant instead of biasing the last one.
    """
    runs: dict[tuple[str, str], list[dict]] = {}
    for endpoint in endpoints:
        for base in targets.values():
            wrk(base + endpoint, duration=1, connections=args.connections)  # warm-up: imports, pools
        for _ in range(args.repeat):
            for label, base in targets.items():
                result = _measure(base, endpoint, args)
                runs.setdefault((label, endpoint), []).append(result)
                print(_fmt(_row(label, endpoint, result)), flush=True)
    rows = []
    for (label, endpoint), results in runs.items():
        median = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        row = _row(label, endpoint, median)
        row["rps_all"] = [r["rps"] for r in results]
        row["p99_all"] = [r["p99_ms"] for r in results]
        row["load1_all"] = [r["load1_before"] for r in results]
        rows.append(row)
    return rows


def run_servers(args) -> list[dict]:
    env = bench_env()
    with contextlib.ExitStack() as stack:
        targets = {
            kind: stack.enter_context(server(kind, env, log_path=RESULTS / f"{kind}.log"))
            for kind in ("gunicorn", "uvicorn")
        }
        return _interleaved(targets, args.endpoints, args)


def run_pool(args) -> list[dict]:
    with contextlib.ExitStack() as stack:
        targets = {
            f"gunicorn, {label}": stack.enter_context(
                server("gunicorn", bench_env(module), log_path=RESULTS / f"gunicorn-{label.replace(' ', '')}.log")
            )
            for label, module in POOL_VARIANTS.items()
            if label != "persistent" or args.persistent
        }
        return _interleaved(targets, ["/bench/db"], args)


def _fmt(row: dict) -> str:
    return (
        f"| {row['server']} | `{row['endpoint']}` | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
        f"| {row['non2xx'] + row['socket_errors']} | {row['load1_before']} |"
    )


HEADER = "| server | endpoint | req/s | p50 ms | p99 ms | errors | load1 before |\n|---|---|---|---|---|---|---|"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", choices=["servers", "pool", "all"])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (max 60)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant, interleaved; the median is kept")
    parser.add_argument("--endpoints", nargs="+", default=list(ENDPOINTS), help="servers suite: paths to load")
    parser.add_argument("--out", default=None, help="results file suffix (default: the suite name)")
    parser.add_argument("--persistent", action="store_true", help="also measure CONN_MAX_AGE=600 in the pool suite")
    args = parser.parse_args(argv)
    args.duration = max(1, min(args.duration, 60))
    args.repeat = max(1, min(args.repeat, 10))
    RESULTS.mkdir(exist_ok=True)
    ensure_database()
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": os.cpu_count(),
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s",
        "repeat": args.repeat,
    }
    suites = ["servers", "pool"] if args.suite == "all" else [args.suite]
    print(HEADER)
    for suite in suites:
        rows = run_servers(args) if suite == "servers" else run_pool(args)
        (RESULTS / f"{args.out or suite}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
