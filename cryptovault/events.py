"""Live events to browsers, sent only once the data they describe is committed.

Sending inside an open transaction would let a browser fetch state that a rollback
then erases; sending after commit means a subscriber can always read what it is told.

Sends go through one event loop per process, kept in a daemon thread. `async_to_sync` would
run each send on a fresh loop, and channels-redis keeps its connections per loop, so every
event opened (and dropped) a Redis connection: a third of a paper order's time went there
(BENCHMARKS.md 8). The loop is made again after a fork (Celery's prefork children).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

PRICES_GROUP = "prices"
SEND_TIMEOUT_SECONDS = 5.0

_lock = threading.Lock()
_sender: tuple[int, asyncio.AbstractEventLoop] | None = None


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def _sender_loop() -> asyncio.AbstractEventLoop:
    global _sender
    with _lock:
        if _sender is None or _sender[0] != os.getpid() or _sender[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="cv-events", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def broadcast(group: str, event_type: str, payload: dict[str, Any]) -> None:
    """Send now. Prefer broadcast_on_commit wherever a database write is involved."""
    message = {"type": "event.message", "event": event_type, "payload": payload}
    future = asyncio.run_coroutine_threadsafe(get_channel_layer().group_send(group, message), _sender_loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise


def broadcast_on_commit(group: str, event_type: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: broadcast(group, event_type, payload))
