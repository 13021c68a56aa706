"""Liveness and readiness probes for load balancers and orchestrators.

/health answers as long as the process can serve Python (no I/O), so a slow database
never gets a healthy web process restarted. /health/ready checks every dependency a
request may touch and answers 503 naming what is down, so traffic is routed elsewhere.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cryptovault.celery import app as celery_app
from cryptovault.tasks import worker_heartbeat_status

CHANNEL_LAYER_TIMEOUT_S = 5


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)


def check_channel_layer() -> None:
    """Send and receive one message through a layer of its own.

    The process-wide layer must not be used here: concurrent probes from several threads
    would each drive it from their own event loop, and channels-redis refuses two loops
    receiving at once, so a healthy Redis would be reported down under load.
    """

    async def round_trip() -> None:
        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        try:
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "health.ping"})
            message = await asyncio.wait_for(layer.receive(channel), timeout=CHANNEL_LAYER_TIMEOUT_S)
            if message.get("type") != "health.ping":
                raise RuntimeError("channel layer returned another message")
        finally:
            close = getattr(layer, "close_pools", None)
            if close is not None:
                await close()

    async_to_sync(round_trip)()


def check_broker() -> None:
    with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}


@never_cache
@require_safe
def liveness(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readiness(request):
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:
            results[name] = {"status": "down", "error": exc.__class__.__name__}
        else:
            results[name] = {"status": "ok"}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    down = [name for name, result in results.items() if result["status"] != "ok"]
    # The worker is reported, not checked: a web process is ready to serve pages even
    # while the workers restart, so their absence must not take it out of rotation.
    body = {"status": "down" if down else "ok", "down": down, "checks": results, "worker": worker_heartbeat_status()}
    return JsonResponse(body, status=503 if down else 200)
