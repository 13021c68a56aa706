"""Live events to browsers, sent only once the data they describe is committed.

Sending inside an open transaction would let a browser fetch state that a rollback
then erases; sending after commit means a subscriber can always read what it is told.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

PRICES_GROUP = "prices"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def broadcast(group: str, event_type: str, payload: dict[str, Any]) -> None:
    """Send now. Prefer broadcast_on_commit wherever a database write is involved."""
    async_to_sync(get_channel_layer().group_send)(
        group, {"type": "event.message", "event": event_type, "payload": payload}
    )


def broadcast_on_commit(group: str, event_type: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: broadcast(group, event_type, payload))
