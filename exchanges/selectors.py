"""Reads of exchange connections, for pages, the API, the admin and the commands.

Every read starts from the one gate, `ExchangeConnection.objects.visible_to(user)`: another user's
connection is simply not found (404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from exchanges.models import ConnectionCheck, ExchangeConnection
from security.models import AuditEvent
from security.selectors import audit_events_for

LATENCY_HISTORY_POINTS = 48


def connections_for(*, user: Any, include_revoked: bool = False) -> QuerySet[ExchangeConnection]:
    connections = ExchangeConnection.objects.visible_to(user)
    if not include_revoked:
        connections = connections.active()
    return connections.order_by("exchange", "nickname", "id")


def connections_with_history(*, user: Any, include_revoked: bool = False) -> QuerySet[ExchangeConnection]:
    """`connections_for`, each with its newest checks in `recent_checks` (newest first): one query for all cards."""
    recent = ConnectionCheck.objects.visible_to(user).order_by("-checked_at", "-id")
    return connections_for(user=user, include_revoked=include_revoked).prefetch_related(
        Prefetch("checks", queryset=recent[:LATENCY_HISTORY_POINTS], to_attr="recent_checks")
    )


def connection_for(*, user: Any, pk: Any) -> ExchangeConnection:
    """The user's connection `pk` (revoked ones included); `ExchangeConnection.DoesNotExist` otherwise."""
    return ExchangeConnection.objects.visible_to(user).get(pk=pk)


def latency_history(*, user: Any, connection: ExchangeConnection) -> list[ConnectionCheck]:
    """The newest checks of one connection, oldest first (a small chart's points)."""
    checks = ConnectionCheck.objects.visible_to(user).filter(connection=connection).order_by("-checked_at", "-id")
    return list(reversed(checks[:LATENCY_HISTORY_POINTS]))


def connection_audit_for(*, user: Any) -> QuerySet[AuditEvent]:
    """The user's audit records about exchange connections, newest first."""
    return audit_events_for(user=user).filter(action__startswith="exchange.")
