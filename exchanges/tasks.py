"""Periodic key-health checks: one task fans out, one task per connection does the work.

Fanning out keeps one slow exchange from delaying every other user's check, and a retry of one
connection from repeating the rest. Tasks take ids and call the service with a task actor.
"""

from __future__ import annotations

from celery import shared_task

from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from exchanges.models import ConnectionCheck, ExchangeConnection
from exchanges.services.health import connection_check


@shared_task(name="exchanges.check_all_connections", bind=True)
def check_all_connections(self) -> int:
    """One task per connection, on the queue this one came from (so a dedicated queue stays one)."""
    queue = (self.request.delivery_info or {}).get("routing_key")
    ids = list(ExchangeConnection.objects.active().order_by("pk").values_list("pk", flat=True))
    for connection_id in ids:
        check_connection.apply_async((connection_id,), queue=queue)
    return len(ids)


@shared_task(name="exchanges.check_connection", bind=True)
def check_connection(self, connection_id: int) -> str:
    connection = ExchangeConnection.objects.active().filter(pk=connection_id).select_related("user").first()
    if connection is None:
        return "gone"
    try:
        result = connection_check(
            actor=Actor.for_task(self.request.id),
            connection=connection,
            trigger=ConnectionCheck.Trigger.SCHEDULED,
        )
    except DomainError as refused:  # revoked meanwhile, or keys no encryption key opens
        return refused.code
    return result.code
