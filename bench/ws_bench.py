"""Websocket fan-out through channels-redis (redis-py 8): connect, idle, group_send, count.

    .venv/bin/python bench/ws_bench.py                      # settings as configured
    .venv/bin/python bench/ws_bench.py --socket-timeout 5 --max-connections 100   # pre-fix

Steps: create a fresh user and a logged-in session in the bench database; start uvicorn
(cryptovault.asgi:application, DEBUG off) on 127.0.0.1; open --clients websockets to
/ws/events/ at once (cookie sessionid + Origin); stay idle --idle seconds; then send
--rounds group messages to the user's group ``user.<id>`` from this process (same
CHANNEL_LAYERS settings) and measure how many clients receive each one and how fast.
Prints one JSON document and writes it to bench/results/ws-<label>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, bench_env, ensure_database, server

RESULTS = BASE_DIR / "bench" / "results"


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 1)


def _summary(values_ms: list[float]) -> dict:
    return {
        "n": len(values_ms),
        "p50_ms": _pct(values_ms, 50),
        "p95_ms": _pct(values_ms, 95),
        "max_ms": round(max(values_ms), 1) if values_ms else None,
        "mean_ms": round(statistics.fmean(values_ms), 1) if values_ms else None,
    }


def make_session() -> tuple[int, str]:
    """A new user and a logged-in session in the bench DB: (user id, sessionid)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_user(email=f"ws-bench-{uuid.uuid4().hex[:12]}@bench.local")
    client = Client()
    client.force_login(user, backend="axes.backends.AxesBackend")
    return user.pk, client.cookies["sessionid"].value


class WsClient:
    def __init__(self, index: int):
        self.index = index
        self.connect_ms: float | None = None
        self.error: str | None = None
        self.closed_at: float | None = None
        self.close_code: int | None = None
        self.received: dict[str, float] = {}
        self.ws = None


async def run_client(
    c: WsClient, uri: str, headers: dict, stop: asyncio.Event, open_timeout: float, delay: float = 0.0
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    if delay:
        await asyncio.sleep(delay)
    started = time.perf_counter()
    try:
        c.ws = await connect(uri, additional_headers=headers, open_timeout=open_timeout, max_queue=64)
        first = json.loads(await asyncio.wait_for(c.ws.recv(), timeout=open_timeout))
        if first.get("type") != "connected":
            raise RuntimeError(f"unexpected first message {first!r}")
        c.connect_ms = (time.perf_counter() - started) * 1000
    except Exception as exc:
        c.error = f"{type(exc).__name__}: {str(exc)[:120]}"
        if c.ws is not None:
            c.close_code = c.ws.close_code
            await c.ws.close()
        return
    try:
        while not stop.is_set():
            recv = asyncio.ensure_future(c.ws.recv())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({recv, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if recv not in done:
                recv.cancel()
                break
            stopper.cancel()
            message = json.loads(recv.result())
            if message.get("type") == "bench.ping":
                c.received[message["payload"]["id"]] = time.perf_counter()
    except ConnectionClosed:
        c.closed_at = time.perf_counter()
        c.close_code = c.ws.close_code
    finally:
        await c.ws.close()


async def scenario(args, user_id: int, session_id: str, base: str, log: Path) -> dict:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    group = f"user.{user_id}"
    uri = base.replace("http://", "ws://") + "/ws/events/"
    headers = {"Cookie": f"sessionid={session_id}", "Origin": base}
    stop = asyncio.Event()
    clients = [WsClient(i) for i in range(args.clients)]

    t0 = time.perf_counter()
    spacing = args.ramp / args.clients
    tasks = [
        asyncio.ensure_future(run_client(c, uri, headers, stop, args.open_timeout, c.index * spacing)) for c in clients
    ]
    deadline = t0 + args.ramp + args.open_timeout + 5
    while time.perf_counter() < deadline and not all(c.connect_ms is not None or c.error for c in clients):
        await asyncio.sleep(0.02)
    connect_wall_ms = (time.perf_counter() - t0) * 1000
    connected = [c for c in clients if c.connect_ms is not None]

    idle_started = time.perf_counter()
    await asyncio.sleep(args.idle)
    rounds = []
    for number in range(args.rounds):
        if number:
            await asyncio.sleep(args.idle)
        message_id = uuid.uuid4().hex
        open_before = sum(1 for c in connected if c.closed_at is None)
        sent = time.perf_counter()
        await layer.group_send(group, {"type": "event.message", "event": "bench.ping", "payload": {"id": message_id}})
        wait_until = sent + args.receive_timeout
        while time.perf_counter() < wait_until:
            if all(message_id in c.received or c.closed_at is not None for c in connected):
                break
            await asyncio.sleep(0.01)
        latencies = [(c.received[message_id] - sent) * 1000 for c in connected if message_id in c.received]
        rounds.append(
            {
                "sent_after_idle_s": round(sent - idle_started, 1),
                "open_when_sent": open_before,
                "received": len(latencies),
                "lost": args.clients - len(latencies),
                "latency": _summary(latencies),
            }
        )
    errors_while_open = _server_errors(log)
    stop.set()
    await asyncio.wait(tasks, timeout=10)

    errors = collections.Counter(c.error.split(":")[0] for c in clients if c.error)
    dropped = [c for c in connected if c.closed_at is not None]
    return {
        "connect": {
            "attempted": args.clients,
            "connected": len(connected),
            "failed": args.clients - len(connected),
            "failures": dict(errors),
            "wall_ms": round(connect_wall_ms, 1),
            **{f"per_client_{k}": v for k, v in _summary([c.connect_ms for c in connected]).items() if k != "n"},
        },
        "dropped_while_open": len(dropped),
        "drop_close_codes": dict(collections.Counter(c.close_code for c in dropped)),
        "drop_times_s_after_connect": sorted(round(c.closed_at - t0, 1) for c in dropped)[:50],
        "rounds": rounds,
        "server_errors_while_open": errors_while_open,
    }


def _server_errors(log: Path) -> dict:
    """Exception class names the server logged (tracebacks' last lines), counted."""
    counts: collections.Counter = collections.Counter()
    if log.is_file():
        for line in log.read_text(errors="replace").splitlines():
            match = re.match(r"^([A-Za-z_.]+(?:Error|Exception|Timeout)):", line)
            if match:
                counts[match.group(1)] += 1
    return dict(counts)


def _group_size(address: str, user_id: int) -> int:
    import redis
    from django.conf import settings

    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    client = redis.Redis.from_url(address, socket_timeout=5)
    try:
        return client.zcard(f"{prefix}:group:user.{user_id}")
    finally:
        client.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--idle", type=float, default=8.0, help="seconds idle before each group_send (max 120)")
    parser.add_argument("--rounds", type=int, default=1, help="group messages, --idle seconds apart (max 10)")
    parser.add_argument("--ramp", type=float, default=0.0, help="spread connects over N seconds (0: at once)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--socket-timeout", help="CHANNEL_LAYER_SOCKET_TIMEOUT (default: as settings)")
    parser.add_argument("--max-connections", help="CHANNEL_LAYER_MAX_CONNECTIONS (default: as settings)")
    parser.add_argument("--open-timeout", type=float, default=20.0)
    parser.add_argument("--receive-timeout", type=float, default=5.0)
    parser.add_argument("--label", default=None)
    args = parser.parse_args(argv)
    args.idle = max(0.0, min(args.idle, 120.0))
    args.rounds = max(1, min(args.rounds, 10))
    args.clients = max(1, min(args.clients, 2000))
    args.ramp = max(0.0, min(args.ramp, 60.0))

    overrides = {}
    if args.socket_timeout is not None:
        overrides["CHANNEL_LAYER_SOCKET_TIMEOUT"] = args.socket_timeout
    if args.max_connections is not None:
        overrides["CHANNEL_LAYER_MAX_CONNECTIONS"] = args.max_connections
    label = args.label or (
        f"st{args.socket_timeout or 'default'}-mc{args.max_connections or 'default'}-w{args.workers}"
    )
    env = bench_env(**overrides)
    RESULTS.mkdir(exist_ok=True)
    ensure_database()
    # This process sends the group message with the very same settings as the server.
    for key in [k for k in os.environ if k.startswith(("DJANGO_", "CHANNEL_LAYER_"))]:
        del os.environ[key]
    os.environ.update(env)
    user_id, session_id = make_session()

    from django.conf import settings

    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    log = RESULTS / f"uvicorn-ws-{label}.log"
    with server("uvicorn", env, workers=args.workers, log_path=log) as base:
        result = asyncio.run(scenario(args, user_id, session_id, base, log))
        await_disconnects = time.monotonic() + 5
        while time.monotonic() < await_disconnects and _group_size(host["address"], user_id) > 0:
            time.sleep(0.2)
    result = {
        "label": label,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "clients": args.clients,
        "idle_s": args.idle,
        "uvicorn_workers": args.workers,
        "connect_ramp_s": args.ramp,
        "channel_layer": {k: host[k] for k in ("socket_timeout", "max_connections")},
        **result,
        "server_errors_total": _server_errors(log),
        # Channels left in the group after every client closed: failed group_discard calls.
        # They stay until channels-redis' group_expiry (24 h) and cost every later group_send.
        "stale_group_members_after_close": _group_size(host["address"], user_id),
    }
    print(json.dumps(result, indent=2))
    (RESULTS / f"ws-{label}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
