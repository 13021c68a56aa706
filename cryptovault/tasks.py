"""Project-wide periodic tasks."""

from __future__ import annotations

import socket

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
