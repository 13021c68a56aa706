"""Project-wide periodic tasks."""

from __future__ import annotations

import socket
from datetime import datetime

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

WORKER_HEARTBEAT_KEY = "worker:heartbeat"


@shared_task(name="cryptovault.worker_heartbeat", ignore_result=False)
def worker_heartbeat() -> dict:
    """Record that a worker is consuming the queue; /health/ready reports its age."""
    beat = {"at": timezone.now().isoformat(), "worker": socket.gethostname()}
    cache.set(WORKER_HEARTBEAT_KEY, beat, timeout=None)
    return beat


def worker_heartbeat_status() -> dict:
    """When a worker last ran the heartbeat, for /health/ready; never raises."""
    try:
        beat = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception:  # the cache check in /health/ready reports Redis itself
        beat = None
    if not beat:
        return {"last_heartbeat": None, "age_s": None}
    age = (timezone.now() - datetime.fromisoformat(beat["at"])).total_seconds()
    return {"last_heartbeat": beat["at"], "age_s": round(age, 1)}
