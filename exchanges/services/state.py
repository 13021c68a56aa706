"""What the connection services share: a test's result applied to a row, its record, its announcement."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from cryptovault.events import broadcast_on_commit, user_group
from exchanges.errors import ConnectionRevoked
from exchanges.models import ConnectionCheck, ExchangeConnection, Status
from exchanges.probe import ProbeResult


def refuse_revoked(connection: ExchangeConnection) -> None:
    if not connection.is_active:
        raise ConnectionRevoked()


def apply_result(connection: ExchangeConnection, result: ProbeResult) -> None:
    """Status after a test: connected on success, degraded after one failure, error after N in a row."""
    connection.last_checked_at = timezone.now()
    connection.latency_ms = result.latency_ms
    if result.ok:
        connection.status = Status.CONNECTED
        connection.consecutive_failures = 0
        connection.last_error_code = ""
        if result.permissions is not None:
            connection.key_can_withdraw = result.permissions.can_withdraw
            connection.key_ip_restricted = result.permissions.ip_restricted
            connection.key_can_trade = result.permissions.can_trade
            connection.key_created_at = result.permissions.created_at
        return
    connection.last_error_code = result.code
    connection.consecutive_failures += 1
    connection.status = (
        Status.ERROR if connection.consecutive_failures >= settings.CONNECTION_ERROR_AFTER_FAILURES else Status.DEGRADED
    )


def record_check(connection: ExchangeConnection, result: ProbeResult, trigger: str) -> None:
    ConnectionCheck.objects.create(
        connection=connection,
        checked_at=connection.last_checked_at or timezone.now(),
        trigger=trigger,
        ok=result.ok,
        code=result.code,
        latency_ms=result.latency_ms,
    )


def announce(connection: ExchangeConnection) -> None:
    """The connection's card on open pages follows along (/ws/events)."""
    broadcast_on_commit(
        user_group(connection.user_id),
        "exchange.connection",
        {
            "id": connection.pk,
            "status": connection.status,
            "latency_ms": connection.latency_ms,
            "last_checked_at": connection.last_checked_at.isoformat() if connection.last_checked_at else None,
            "last_error_code": connection.last_error_code,
        },
    )


def copy_state(source: ExchangeConnection, *, into: ExchangeConnection) -> None:
    """What a locked copy of the row now holds, onto the caller's instance (no second read)."""
    if source is not into:
        for field in ExchangeConnection._meta.concrete_fields:
            setattr(into, field.attname, getattr(source, field.attname))
