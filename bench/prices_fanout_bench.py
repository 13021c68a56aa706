"""Benchmark 6: one price tick fanned out to 1,000 /ws/prices clients through channels-redis.

    .venv/bin/python bench/prices_fanout_bench.py                    # the full run (about 3 minutes)
    .venv/bin/python bench/prices_fanout_bench.py --clients 100 --client-procs 1 --ticks 6 --burst 5 \
        --kinds prices,bare-nohop --label smoke                       # what `make bench` runs

For each kind of server in turn (--kinds):

- prices: uvicorn serving `cryptovault.asgi:application` (the real stack: Origin check, session
  middleware, `PricesConsumer` with its per-IP lease, snapshot, subscription filter and heartbeat);
- bare: `bench.asgi_bare:application`, a consumer that only joins "prices" and forwards each event,
  with Channels' stock dispatch (a hop to the sync thread before every handler);
- bare-nohop: the same consumer without that hop for group events (what PricesConsumer does): the limit.

Every server runs DEBUG off (bench/common.py:bench_env), one uvicorn worker unless --workers, the
channel layer and cache on Redis databases 15 and 14 of 127.0.0.1:6379 (no other bench and no
default setting uses them; the bench deletes only its own keys there: the group "prices", the
/ws/prices leases and counters), `MARKET_DATA_EXCHANGE=replay` (prices from the offline replay, no
network), `WS_PRICES_MAX_PER_IP` above --clients, and `WS_HEARTBEAT_SECONDS=600` so no heartbeat
falls inside a run (clients that connect in the same second would all be pinged in the same second).

--client-procs processes (multiprocessing, spawn) open --clients websockets between them, with an
`Origin` the server allows, the connects --connect-concurrency at a time; on the real stack a client
counts as connected once its snapshot arrived. This process then drives `publish_tick()` itself
(exchanges/market/publisher.py, the same function `manage.py publish_prices` calls): 2 warm-up ticks,
--ticks ticks every --interval seconds (paced), then --burst ticks back to back (throughput).
Each client stamps every tick it receives with time.time(); the latency of a message is that stamp
minus the tick's own `at` (the server time written into the payload just before it is stored and
broadcast, same machine, same clock), and also minus the time just before `publish_tick()` was called
(which adds the replay's price computation). CPU seconds of the server, the clients, Redis and this
driver are read from /proc around each phase.

Prints a summary and writes bench/results/fanout-<label>.json (the server logs beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, REDIS_URL, bench_env, ensure_database, free_port, server_command, wait_http

RESULTS = BASE_DIR / "bench" / "results"
KINDS = {
    # kind: (ASGI application, websocket path, waits for a snapshot)
    "prices": ("cryptovault.asgi:application", "/ws/prices/", True),
    "bare": ("bench.asgi_bare:application", "/ws/prices/", False),
    "bare-nohop": ("bench.asgi_bare:application", "/ws/prices-nohop/", False),
}
REDIS_DBS = {"cache": 14, "channels": 15}  # never a developer's 0-3, nor benchmark 5's 10-13
WARMUP_TICKS = 2
TICK_PREFIX = '{"type": "tick"'
AT_KEY = '"at": "'
PING_PREFIX = '{"type": "ping"'
CLK_TCK = os.sysconf("SC_CLK_TCK")


def redis_url(db: int) -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def fanout_env(args) -> dict[str, str]:
    return bench_env(
        CELERY_BROKER_URL=redis_url(REDIS_DBS["cache"]),
        CELERY_RESULT_BACKEND=redis_url(REDIS_DBS["cache"]),
        CACHE_REDIS_URL=redis_url(REDIS_DBS["cache"]),
        CHANNEL_LAYER_REDIS_URL=redis_url(REDIS_DBS["channels"]),
        MARKET_DATA_EXCHANGE="replay",
        WS_PRICES_MAX_PER_IP=str(args.clients + 100),
        WS_HEARTBEAT_SECONDS="600",
        PRICE_TICK_SECONDS=str(args.interval),
    )


# --- the clients (one event loop per process) -------------------------------------------------------


def _raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def client_process(uri, origin, count, want_snapshot, compression, concurrency, shared, ready, stop, out_path):
    """Entry point of one client process: open `count` websockets, record ticks until `stop`."""
    _raise_nofile(count + 200)
    result = asyncio.run(_clients(uri, origin, count, want_snapshot, compression, concurrency, shared, ready, stop))
    Path(out_path).write_text(json.dumps(result))


async def _clients(uri, origin, count, want_snapshot, compression, concurrency, shared, ready, stop) -> dict:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    received_at: dict[str, list[float]] = collections.defaultdict(list)
    failures: collections.Counter = collections.Counter()
    counts = {"connected": 0, "received": 0, "other": 0, "closed_early": 0, "pongs": 0}
    extensions: list[str] = []
    sockets = []
    stopping = False
    handshakes = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with handshakes:
            try:
                ws = await connect(
                    uri,
                    additional_headers={"Origin": origin},
                    compression=compression,
                    open_timeout=60,
                    ping_interval=None,  # the app's own JSON heartbeat is what counts; none falls in a run
                    proxy=None,
                    max_queue=256,
                )
            except Exception as exc:
                failures[type(exc).__name__] += 1
                return
            try:
                if want_snapshot:
                    first = await asyncio.wait_for(ws.recv(), timeout=60)
                    if not first.startswith('{"type": "snapshot"'):
                        raise RuntimeError(first[:80])
            except Exception as exc:
                failures[f"snapshot: {type(exc).__name__}"] += 1
                await ws.close()
                return
            counts["connected"] += 1
            if not extensions:
                extensions.extend(getattr(ext, "name", type(ext).__name__) for ext in ws.protocol.extensions)
            sockets.append(ws)
        try:
            async for text in ws:
                now = time.time()
                if text.startswith(TICK_PREFIX):
                    start = text.rfind(AT_KEY) + len(AT_KEY)
                    received_at[text[start : text.index('"', start)]].append(now)
                    counts["received"] += 1
                elif text.startswith(PING_PREFIX):
                    await ws.send('{"type": "pong"}')
                    counts["pongs"] += 1
                else:
                    counts["other"] += 1
        except ConnectionClosed:
            pass
        if not stopping:
            counts["closed_early"] += 1

    tasks = [asyncio.ensure_future(one()) for _ in range(count)]
    started = time.perf_counter()
    while counts["connected"] + sum(failures.values()) < count and time.perf_counter() - started < 300:
        await asyncio.sleep(0.05)
    shared["connected"].value = counts["connected"]
    shared["failed"].value = count - counts["connected"]
    ready.set()
    while not stop.is_set():
        shared["received"].value = counts["received"]
        await asyncio.sleep(0.05)
    shared["received"].value = counts["received"]
    stopping = True
    if sockets:
        await asyncio.wait([asyncio.ensure_future(ws.close()) for ws in sockets], timeout=20)
    await asyncio.wait(tasks, timeout=10)
    return {
        "connected": counts["connected"],
        "failures": dict(failures),
        "received": counts["received"],
        "other_messages": counts["other"],
        "pongs": counts["pongs"],
        "closed_early": counts["closed_early"],
        "extensions": extensions,
        "received_at": received_at,
    }


# --- measuring -------------------------------------------------------------------------------------


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def _machine_busy_seconds() -> float:
    """CPU seconds every core spent busy since boot (/proc/stat: user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def _cpu_pressure() -> float | None:
    """/proc/pressure/cpu "some avg10": the share of the last 10 s in which a runnable task waited for a core."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        return float(Path("/proc/pressure/cpu").read_text().split()[1].split("=")[1])
    return None


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def _redis_pid() -> int | None:
    import redis

    client = redis.Redis.from_url(redis_url(REDIS_DBS["cache"]), socket_timeout=5)
    try:
        return int(client.info("server")["process_id"])
    except Exception:
        return None
    finally:
        client.close()


class CpuMeter:
    """CPU seconds per component between two marks, from /proc (and os.times for this process)."""

    def __init__(self, server_pgid: int, client_pids: list[int], redis_pid: int | None):
        self.server_pgid, self.client_pids, self.redis_pid = server_pgid, client_pids, redis_pid

    def read(self) -> dict[str, float]:
        mine = os.times()
        return {
            "server": _cpu_seconds(_group_pids(self.server_pgid)),
            "clients": _cpu_seconds(self.client_pids),
            "redis": _cpu_seconds([self.redis_pid]) if self.redis_pid else 0.0,
            "driver": mine.user + mine.system,
            "machine": _machine_busy_seconds(),
            "wall": time.monotonic(),
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict:
        wall = after["wall"] - before["wall"]
        spent = {key: round(after[key] - before[key], 2) for key in before if key != "wall"}
        # What else ran on the machine meanwhile (other jobs; the kernel's share of our processes' I/O).
        spent["others"] = round(spent.pop("machine") - sum(spent.values()), 2)
        return {
            "wall_s": round(wall, 2),
            "cpu_s": spent,
            "cpu_share": {k: round(v / wall, 2) for k, v in spent.items()},
        }


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 1)


def _latency(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": _pct(values, 50),
        "p90_ms": _pct(values, 90),
        "p99_ms": _pct(values, 99),
        "max_ms": round(max(values), 1) if values else None,
        "mean_ms": round(statistics.fmean(values), 1) if values else None,
    }


def phase_figures(ticks: list[dict], received_at: dict[str, list[float]], connected: int) -> dict:
    """Delivered, lost, msgs/s and latencies of the ticks of one phase."""
    since_at, since_call, last_receive = [], [], 0.0
    per_tick_done_ms, per_tick = [], []
    for tick in ticks:
        at = datetime.fromisoformat(tick["at"]).timestamp()
        stamps = received_at.get(tick["at"], [])
        since_at.extend((stamp - at) * 1000 for stamp in stamps)
        since_call.extend((stamp - tick["called"]) * 1000 for stamp in stamps)
        if stamps:
            last_receive = max(last_receive, max(stamps))
            per_tick_done_ms.append((max(stamps) - at) * 1000)
            ordered = sorted((stamp - at) * 1000 for stamp in stamps)
            per_tick.append(
                {
                    "n": len(ordered),
                    "first_ms": round(ordered[0], 1),
                    "p50_ms": round(ordered[len(ordered) // 2], 1),
                    "last_ms": round(ordered[-1], 1),
                    "at_after_call_ms": round((at - tick["called"]) * 1000, 1),
                }
            )
    delivered = len(since_at)
    expected = connected * len(ticks)
    window = last_receive - ticks[0]["called"] if ticks and last_receive else 0.0
    publish_ms = [(t["returned"] - t["called"]) * 1000 for t in ticks]
    return {
        "ticks": len(ticks),
        "expected": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "window_s": round(window, 3),
        "msgs_per_s": round(delivered / window) if window else None,
        "latency_since_at": _latency(since_at),
        "latency_since_publish_call": _latency(since_call),
        "tick_complete_ms": _latency(per_tick_done_ms),  # when the last client got each tick
        "publish_tick_ms": _latency(publish_ms),
        "per_tick": per_tick,  # in publishing order: first, median and last client, ms since `at`
    }


# --- one server ------------------------------------------------------------------------------------


@contextlib.contextmanager
def uvicorn(app: str, env: dict, workers: int, log_path: Path):
    """uvicorn as bench/common.py starts it (same flags), serving `app`; yields (base URL, process group)."""
    port = free_port()
    command = server_command("uvicorn", port, workers)
    command[1] = app
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/health")
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def _forget_stale_state() -> None:
    """Delete what an interrupted earlier run may have left in our two databases: members of the group
    "prices" (every group_send would still address them) and /ws/prices leases (the per-IP cap counts them)."""
    import redis
    from django.conf import settings

    from exchanges.market import stats

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    channels = redis.Redis.from_url(redis_url(REDIS_DBS["channels"]), socket_timeout=5)
    cache = redis.Redis.from_url(redis_url(REDIS_DBS["cache"]), socket_timeout=5)
    try:
        channels.delete(f"{prefix}:group:prices")
        cache.delete(stats.ip_key("127.0.0.1"), stats.CLIENTS_KEY)
    finally:
        channels.close()
        cache.close()


def _publish(phase: str) -> dict:
    from django.core.cache import cache

    from exchanges.market.publisher import LAST_TICK_KEY, publish_tick

    called = time.time()
    publish_tick()
    returned = time.time()
    return {"phase": phase, "called": called, "returned": returned, "at": cache.get(LAST_TICK_KEY)["at"]}


def _wait_received(shared: list[dict], target: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        got = sum(s["received"].value for s in shared)
        if got >= target or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def run_kind(kind: str, args, env: dict, scratch: Path) -> dict:
    app, ws_path, want_snapshot = KINDS[kind]
    _forget_stale_state()
    log = RESULTS / f"uvicorn-fanout-{args.label}-{kind}.log"
    load_before, pressure_before = os.getloadavg(), _cpu_pressure()
    ctx = multiprocessing.get_context("spawn")
    with uvicorn(app, env, args.workers, log) as (base, pgid):
        uri = base.replace("http://", "ws://") + ws_path
        per_proc = [
            args.clients // args.client_procs + (i < args.clients % args.client_procs) for i in range(args.client_procs)
        ]
        stop = ctx.Event()
        procs, shared, readies, outs = [], [], [], []
        connect_started = time.monotonic()
        for index, count in enumerate(per_proc):
            values = {name: ctx.Value("q", 0, lock=False) for name in ("connected", "failed", "received")}
            ready = ctx.Event()
            out = scratch / f"{kind}-{index}.json"
            compression = None if args.no_compression else "deflate"
            proc = ctx.Process(
                target=client_process,
                args=(
                    uri,
                    base,
                    count,
                    want_snapshot,
                    compression,
                    args.connect_concurrency,
                    values,
                    ready,
                    stop,
                    str(out),
                ),
                daemon=True,
            )
            proc.start()
            procs.append(proc)
            shared.append(values)
            readies.append(ready)
            outs.append(out)
        try:
            for ready in readies:
                if not ready.wait(timeout=max(0.0, connect_started + 330 - time.monotonic())):
                    raise RuntimeError("the clients did not finish connecting within 330 s")
            connect_s = time.monotonic() - connect_started
            connected = sum(s["connected"].value for s in shared)
            meter = CpuMeter(pgid, [p.pid for p in procs], _redis_pid())
            ticks: list[dict] = []
            received = 0

            for _ in range(WARMUP_TICKS):
                ticks.append(_publish("warmup"))
                time.sleep(args.interval)
            received = _wait_received(shared, connected * len(ticks), 10)
            time.sleep(0.5)

            before = meter.read()
            due = time.monotonic()
            for _ in range(args.ticks):
                time.sleep(max(0.0, due - time.monotonic()))
                ticks.append(_publish("paced"))
                due += args.interval
            received = _wait_received(shared, connected * len(ticks), 10)
            paced_cpu = CpuMeter.spent(before, meter.read())
            time.sleep(0.5)

            before = meter.read()
            for _ in range(args.burst):
                ticks.append(_publish("burst"))
            received = _wait_received(shared, connected * len(ticks), 60)
            burst_cpu = CpuMeter.spent(before, meter.read())
        finally:
            stop.set()
            for proc in procs:
                proc.join(timeout=45)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(timeout=5)
        results = [json.loads(out.read_text()) for out in outs if out.is_file()]
    if len(results) != len(procs):
        raise RuntimeError(f"{len(procs) - len(results)} client processes wrote no result")
    received_at: dict[str, list[float]] = collections.defaultdict(list)
    for result in results:
        for at, stamps in result.pop("received_at").items():
            received_at[at].extend(stamps)
    burst = phase_figures([t for t in ticks if t["phase"] == "burst"], received_at, connected)
    failures: collections.Counter = collections.Counter()
    for result in results:
        failures.update(result["failures"])
    return {
        "kind": kind,
        "app": app,
        "path": ws_path,
        "load_avg_before": [round(x, 2) for x in load_before],
        "cpu_pressure_some_avg10_before": pressure_before,
        "connect": {
            "attempted": args.clients,
            "connected": connected,
            "failures": dict(failures),
            "wall_s": round(connect_s, 1),
            "extensions": results[0]["extensions"] if results else [],
        },
        "received_total": received,
        "closed_early": sum(r["closed_early"] for r in results),
        "other_messages": sum(r["other_messages"] for r in results),
        "paced": {
            **phase_figures([t for t in ticks if t["phase"] == "paced"], received_at, connected),
            "interval_s": args.interval,
            **paced_cpu,
        },
        "burst": {
            **burst,
            **burst_cpu,
            "server_cpu_ms_per_msg": round(burst_cpu["cpu_s"]["server"] / burst["delivered"] * 1000, 4)
            if burst["delivered"]
            else None,
        },
        "server_log_errors": _log_errors(log),
    }


def _log_errors(log: Path) -> list[str]:
    if not log.is_file():
        return []
    lines = log.read_text(errors="replace").splitlines()
    return [line[:200] for line in lines if "Error" in line or "Exception" in line][:20]


def verdict_of(rows: list[dict]) -> dict:
    """The issue's targets, on the medians per kind (a kind may run more than once: --kinds prices,bare,prices)."""
    by_kind: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)

    def median(kind: str, pick) -> float | None:
        values = [pick(row) for row in by_kind[kind] if pick(row) is not None]
        return statistics.median(values) if values else None

    verdict: dict = {}
    for kind in by_kind:
        verdict[kind] = {
            "runs": len(by_kind[kind]),
            "paced_p50_ms": median(kind, lambda r: r["paced"]["latency_since_at"]["p50_ms"]),
            "paced_p99_ms": median(kind, lambda r: r["paced"]["latency_since_at"]["p99_ms"]),
            "burst_msgs_per_s": median(kind, lambda r: r["burst"]["msgs_per_s"]),
            "server_cpu_ms_per_msg": median(kind, lambda r: r["burst"]["server_cpu_ms_per_msg"]),
            "lost": sum(r["paced"]["lost"] + r["burst"]["lost"] for r in by_kind[kind]),
        }
    if "prices" in verdict:
        prices = verdict["prices"]
        verdict["paced_p99_under_250ms"] = (prices["paced_p99_ms"] or 1e9) < 250
        for bare in ("bare", "bare-nohop"):
            if bare in verdict and verdict[bare]["burst_msgs_per_s"]:
                ratio = (prices["burst_msgs_per_s"] or 0) / verdict[bare]["burst_msgs_per_s"]
                verdict[f"burst_vs_{bare}"] = round(ratio, 2)
                verdict[f"burst_at_least_80pct_of_{bare}"] = ratio >= 0.8
                # The same ratio from the server's CPU per message, which depends less on the machine's load.
                cpu_ratio = verdict[bare]["server_cpu_ms_per_msg"] / prices["server_cpu_ms_per_msg"]
                verdict[f"cpu_per_msg_{bare}_over_prices"] = round(cpu_ratio, 2)
    return verdict


def _summary(rows: list[dict]) -> str:
    head = (
        f"{'kind':<11} {'conn':>5} {'paced lost':>10} {'p50':>6} {'p99':>6} {'max':>6} "
        f"{'burst msgs/s':>12} {'burst lost':>10} {'srv cpu/1k msgs':>15}"
    )
    out = [head]
    for row in rows:
        paced, burst = row["paced"], row["burst"]
        lat = paced["latency_since_at"]
        cpu_per_k = burst["cpu_s"]["server"] / burst["delivered"] * 1000 if burst["delivered"] else float("nan")
        out.append(
            f"{row['kind']:<11} {row['connect']['connected']:>5} {paced['lost']:>10} {lat['p50_ms']!s:>6} "
            f"{lat['p99_ms']!s:>6} {lat['max_ms']!s:>6} {burst['msgs_per_s']!s:>12} {burst['lost']:>10} "
            f"{cpu_per_k:>13.3f} s"
        )
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--client-procs", type=int, default=2, help="client processes sharing --clients")
    parser.add_argument("--ticks", type=int, default=40, help="paced ticks, --interval apart (max 600)")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--burst", type=int, default=30, help="ticks published back to back (max 200)")
    parser.add_argument("--kinds", default="prices,bare,bare-nohop", help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--connect-concurrency", type=int, default=100, help="handshakes in flight per client process")
    parser.add_argument("--no-compression", action="store_true", help="do not offer permessage-deflate")
    parser.add_argument("--label", default="full")
    args = parser.parse_args(argv)
    args.clients = max(1, min(args.clients, 5000))
    args.client_procs = max(1, min(args.client_procs, 8))
    args.ticks = max(1, min(args.ticks, 600))
    args.burst = max(1, min(args.burst, 200))  # channels-redis keeps at most `capacity` (1500) per process
    args.interval = max(0.05, min(args.interval, 10.0))
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")

    env = fanout_env(args)
    RESULTS.mkdir(exist_ok=True)
    ensure_database()
    # This process publishes with the very same settings as the servers.
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "CHANNEL_LAYER_", "CACHE_", "CELERY_"))]:
        del os.environ[key]
    os.environ.update(env)
    import django

    django.setup()
    from exchanges.market.feed import fresh_prices

    fresh_prices()  # loads the replay's candles once, before anything is timed

    rows = []
    with tempfile.TemporaryDirectory(prefix="fanout-") as scratch:
        for kind in kinds:
            rows.append(run_kind(kind, args, env, Path(scratch)))
            print(f"{kind}: done", file=sys.stderr, flush=True)
    verdict = verdict_of(rows)
    document = {
        "label": args.label,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "clients": args.clients,
        "client_procs": args.client_procs,
        "uvicorn_workers": args.workers,
        "ticks": args.ticks,
        "interval_s": args.interval,
        "burst": args.burst,
        "compression_offered": not args.no_compression,
        "redis": f"{REDIS_URL.rsplit('/', 1)[0]}, databases {REDIS_DBS}",
        "rows": rows,
        "verdict": verdict,
    }
    (RESULTS / f"fanout-{args.label}.json").write_text(json.dumps(document, indent=2))
    print(_summary(rows))
    print(json.dumps(verdict, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
