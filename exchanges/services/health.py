"""Re-test stored keys: "test now", the admin action, the health job and `check_connections`.

A status change is audited and the owner notified by their preferences (event type "exchanges").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse

from accounts.notify import notify
from cryptovault.actor import Actor
from exchanges.catalogue import exchange_spec
from exchanges.credentials import open_credentials
from exchanges.errors import ConnectionRevoked, KeysUnreadable
from exchanges.models import ConnectionCheck, ExchangeConnection, Status, TestCode
from exchanges.probe import ProbeResult, probe
from exchanges.services.state import announce, apply_result, copy_state, record_check, refuse_revoked
from security.audit import audit_record
from security.crypto import DecryptionError


def connection_check(
    *, actor: Actor, connection: ExchangeConnection, trigger: str = ConnectionCheck.Trigger.MANUAL
) -> ProbeResult:
    """Test the stored keys now: status, latency and key permissions updated, the change notified."""
    refuse_revoked(connection)
    spec = exchange_spec(connection.exchange)
    try:
        credentials = open_credentials(connection)
    except DecryptionError as exc:
        raise KeysUnreadable() from exc
    result = probe(spec, credentials, sandbox=connection.sandbox, ip_restricted=connection.key_ip_restricted)
    with transaction.atomic():
        locked = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
        if not locked.is_active:
            return result
        before = locked.status
        apply_result(locked, result)
        locked.save()
        record_check(locked, result, trigger)
        audit_record(
            "exchange.tested",
            actor=actor,
            user=locked.user,
            outcome="success" if result.ok else "failure",
            connection_id=locked.pk,
            exchange=locked.exchange,
            result=result.code,
            latency_ms=result.latency_ms,
            trigger=str(trigger),
        )
        if locked.status != before:
            status_changed(actor, locked, before, result)
        announce(locked)
    copy_state(locked, into=connection)
    return result


@dataclass
class HealthSummary:
    checked: int = 0
    ok: int = 0
    failed: int = 0
    status_changes: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # keys no configured encryption key opens


def connections_health_check(
    *, actor: Actor, connections: list[ExchangeConnection] | None = None, on_progress: Callable | None = None
) -> HealthSummary:
    """Re-test every active connection (or the ones given), one after another; a summary back."""
    if connections is None:
        connections = list(ExchangeConnection.objects.active().select_related("user").order_by("pk"))
    summary = HealthSummary()
    for index, connection in enumerate(connections, start=1):
        before = connection.status
        try:
            result = connection_check(actor=actor, connection=connection, trigger=ConnectionCheck.Trigger.SCHEDULED)
        except ConnectionRevoked:
            continue
        except KeysUnreadable as exc:
            summary.unreadable.append(f"{connection.nickname} (#{connection.pk})")
            result = ProbeResult(ok=False, code=TestCode.UNKNOWN, message=exc.message, latency_ms=None)
        summary.checked += 1
        summary.ok += result.ok
        summary.failed += not result.ok
        if connection.status != before:
            summary.status_changes.append(f"{connection.nickname} (#{connection.pk}): {before} → {connection.status}")
        if on_progress is not None:
            on_progress(index, len(connections), connection, result)
    return summary


KEY_FAILURES = frozenset({TestCode.INVALID_CREDENTIALS, TestCode.PERMISSION_DENIED, TestCode.IP_NOT_ALLOWED})


def status_changed(actor: Actor, connection: ExchangeConnection, before: str, result: ProbeResult) -> None:
    audit_record(
        "exchange.status_changed",
        actor=actor,
        user=connection.user,
        connection_id=connection.pk,
        exchange=connection.exchange,
        status_from=before,
        status_to=connection.status,
        result=result.code,
    )
    label = Status(connection.status).label.lower()
    title = f"{connection.nickname}: {label}"
    body = (
        f"Your {exchange_spec(connection.exchange).name} connection “{connection.nickname}” is {label} now."
        if result.ok
        else f"Your {exchange_spec(connection.exchange).name} connection “{connection.nickname}” is {label}: "
        f"{result.message}"
    )
    # A key the exchange refuses (revoked or expired there, its permissions or IP list changed) is a
    # security alert; an exchange that is down or slow, or a recovery, is ordinary connection news.
    notify(
        user=connection.user,
        event="security.exchange_key_failing" if result.code in KEY_FAILURES else "exchanges.connection_status",
        context={
            "title": title,
            "message": body,
            "connection_id": connection.pk,
            "status": connection.status,
            "code": result.code,
            "link": reverse("exchanges:connections"),
        },
    )
