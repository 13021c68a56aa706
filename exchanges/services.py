"""Writes to exchange connections: connect, test, edit, rotate, revoke and the health check.

Every function takes the actor and is the one home of its rule for pages, the API, the admin,
the commands and the health task. A call to the exchange never runs inside a transaction (a slow
exchange must not hold a row lock); the result is applied afterwards under a lock on the row, so a
health check and a revoke arriving together cannot resurrect a revoked connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.gates import require_sensitive_action
from accounts.models import User
from accounts.notify import notify
from cryptovault.actor import Actor
from cryptovault.events import broadcast_on_commit, user_group
from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.credentials import checked_credentials, open_credentials, seal_into, wipe
from exchanges.errors import ConnectionRevoked, ConnectionTestFailed
from exchanges.models import ConnectionCheck, ExchangeConnection, Feature, Status
from exchanges.probe import ProbeResult, probe
from security.audit import audit_record

DEFAULT_FEATURES = [Feature.TRADING, Feature.WALLET]


def connection_test(
    *, actor: Actor, exchange: str, api_key: str, secret: str, passphrase: str = "", sandbox: bool = False
) -> ProbeResult:
    """Test keys that are not stored (the wizard's step 3, POST /connections/test/); audited, never saved."""
    spec = exchange_spec(exchange)
    credentials = checked_credentials(spec, api_key=api_key, secret=secret, passphrase=passphrase)
    result = probe(spec, credentials, sandbox=sandbox)
    audit_record(
        "exchange.tested",
        actor=actor,
        outcome="success" if result.ok else "failure",
        exchange=spec.id,
        key_hint=credentials.hint,
        result=result.code,
        latency_ms=result.latency_ms,
    )
    return result


def _new_connection(
    *, user: User, spec: ExchangeSpec, nickname: str, sandbox: bool, features: list[str] | None
) -> ExchangeConnection:
    connection = ExchangeConnection(
        user=user,
        exchange=spec.id,
        nickname=nickname,
        sandbox=sandbox and spec.supports_sandbox,
        features=list(DEFAULT_FEATURES if features is None else features),
    )
    connection.full_clean(exclude=["api_key_sealed", "secret_sealed", "passphrase_sealed"])
    return connection


def connection_create(
    *,
    actor: Actor,
    user: User,
    exchange: str,
    nickname: str,
    api_key: str,
    secret: str,
    passphrase: str = "",
    sandbox: bool = False,
    features: list[str] | None = None,
    save_untested: bool = False,
    otp_code: str = "",
    challenge_id: str = "",
) -> tuple[ExchangeConnection, ProbeResult]:
    """Store new keys after a passing test, or a failing one when the user knowingly overrides it.

    Input is checked first (each bad field named), then the sensitive-action gate, then the test;
    nothing is written unless all three pass.
    """
    spec = exchange_spec(exchange)
    credentials = checked_credentials(spec, api_key=api_key, secret=secret, passphrase=passphrase)
    connection = _new_connection(user=user, spec=spec, nickname=nickname, sandbox=sandbox, features=features)
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)
    result = probe(spec, credentials, sandbox=connection.sandbox)
    if not result.ok and not save_untested:
        audit_record(
            "exchange.connect_failed", actor=actor, user=user, outcome="failure", exchange=spec.id, result=result.code
        )
        raise ConnectionTestFailed(result.message, test_code=result.code)
    seal_into(connection, credentials)
    connection.keys_set_at = timezone.now()
    _apply(connection, result, count_failure=False)
    if not result.ok:
        connection.status = Status.ERROR
    try:
        with transaction.atomic():
            _save_new(actor, connection, result, spec)
    except IntegrityError as exc:  # the same nickname saved a moment ago by another request
        raise ValidationError({"nickname": "You already have a connection with this nickname."}) from exc
    return connection, result


def _save_new(actor: Actor, connection: ExchangeConnection, result: ProbeResult, spec: ExchangeSpec) -> None:
    connection.save()
    _record_check(connection, result, ConnectionCheck.Trigger.CONNECT)
    audit_record(
        "exchange.connected",
        actor=actor,
        user=connection.user,
        connection_id=connection.pk,
        exchange=spec.id,
        nickname=connection.nickname,
        key_hint=connection.key_hint,
        result=result.code,
        saved_untested=not result.ok,
    )
    _announce(connection)


def connection_update(
    *, actor: Actor, connection: ExchangeConnection, nickname: str | None = None, features: list[str] | None = None
) -> ExchangeConnection:
    """Rename a connection or change what it is used for; the keys stay as they are."""
    _refuse_revoked(connection)
    changed: dict[str, Any] = {}
    if nickname is not None and nickname.strip() != connection.nickname:
        connection.nickname = nickname
        changed["nickname"] = nickname.strip()
    if features is not None and sorted(set(features)) != sorted(connection.features):
        connection.features = list(features)
        changed["features"] = sorted(set(features))
    if not changed:
        return connection
    connection.full_clean(exclude=["user", "api_key_sealed", "secret_sealed", "passphrase_sealed"])
    with transaction.atomic():
        connection.save(update_fields=["nickname", "features", "updated_at"])
        audit_record("exchange.updated", actor=actor, user=connection.user, connection_id=connection.pk, **changed)
        _announce(connection)
    return connection


def connection_check(
    *, actor: Actor, connection: ExchangeConnection, trigger: str = ConnectionCheck.Trigger.MANUAL
) -> ProbeResult:
    """Test the stored keys now: status, latency and key permissions updated, the change notified."""
    _refuse_revoked(connection)
    spec = exchange_spec(connection.exchange)
    result = probe(
        spec, open_credentials(connection), sandbox=connection.sandbox, ip_restricted=connection.key_ip_restricted
    )
    with transaction.atomic():
        locked = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
        if not locked.is_active:
            return result
        before = locked.status
        _apply(locked, result)
        locked.save()
        _record_check(locked, result, trigger)
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
            _status_changed(actor, locked, before, result)
        _announce(locked)
    _copy_state(locked, into=connection)
    return result


def connection_rotate(
    *,
    actor: Actor,
    connection: ExchangeConnection,
    api_key: str,
    secret: str,
    passphrase: str = "",
    otp_code: str = "",
    challenge_id: str = "",
) -> ProbeResult:
    """Replace the keys with new ones, but only once the new ones pass a test; else the old stay."""
    _refuse_revoked(connection)
    spec = exchange_spec(connection.exchange)
    credentials = checked_credentials(spec, api_key=api_key, secret=secret, passphrase=passphrase)
    require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id)
    result = probe(spec, credentials, sandbox=connection.sandbox)
    if not result.ok:
        audit_record(
            "exchange.rotation_failed",
            actor=actor,
            user=connection.user,
            outcome="failure",
            connection_id=connection.pk,
            exchange=connection.exchange,
            result=result.code,
        )
        raise ConnectionTestFailed(
            f"The new keys did not pass the test, so the old keys stay in use. {result.message}", test_code=result.code
        )
    with transaction.atomic():
        locked = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
        _refuse_revoked(locked)
        before = locked.status
        old_hint = locked.key_hint
        seal_into(locked, credentials)
        locked.keys_set_at = timezone.now()
        locked.key_created_at = None
        _apply(locked, result)
        locked.save()
        _record_check(locked, result, ConnectionCheck.Trigger.ROTATE)
        audit_record(
            "exchange.rotated",
            actor=actor,
            user=locked.user,
            connection_id=locked.pk,
            exchange=locked.exchange,
            old_key_hint=old_hint,
            key_hint=locked.key_hint,
        )
        if locked.status != before:
            _status_changed(actor, locked, before, result)
        _announce(locked)
    _copy_state(locked, into=connection)
    return result


def connection_revoke(*, actor: Actor, connection: ExchangeConnection) -> ExchangeConnection:
    """Stop using a connection: keys wiped from the database, the row kept for the audit trail.

    No second factor is asked: someone whose keys leaked must be able to cut them off at once.
    Revoke the key on the exchange too; we cannot do that for you.
    """
    with transaction.atomic():
        locked = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
        if locked.is_active:
            wipe(locked)
            locked.status = Status.REVOKED
            locked.revoked_at = timezone.now()
            locked.save()
            audit_record(
                "exchange.revoked",
                actor=actor,
                user=locked.user,
                connection_id=locked.pk,
                exchange=locked.exchange,
                nickname=locked.nickname,
                key_hint=locked.key_hint,
            )
            _announce(locked)
    _copy_state(locked, into=connection)
    return connection


@dataclass
class HealthSummary:
    checked: int = 0
    ok: int = 0
    failed: int = 0
    status_changes: list[str] = field(default_factory=list)


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
        summary.checked += 1
        summary.ok += result.ok
        summary.failed += not result.ok
        if connection.status != before:
            summary.status_changes.append(f"{connection.nickname} (#{connection.pk}): {before} → {connection.status}")
        if on_progress is not None:
            on_progress(index, len(connections), connection, result)
    return summary


# --- helpers ----------------------------------------------------------------------------------


def _refuse_revoked(connection: ExchangeConnection) -> None:
    if not connection.is_active:
        raise ConnectionRevoked()


def _apply(connection: ExchangeConnection, result: ProbeResult, *, count_failure: bool = True) -> None:
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
    if count_failure:
        connection.consecutive_failures += 1
        connection.status = (
            Status.ERROR
            if connection.consecutive_failures >= settings.CONNECTION_ERROR_AFTER_FAILURES
            else Status.DEGRADED
        )


def _record_check(connection: ExchangeConnection, result: ProbeResult, trigger: str) -> None:
    ConnectionCheck.objects.create(
        connection=connection,
        checked_at=connection.last_checked_at or timezone.now(),
        trigger=trigger,
        ok=result.ok,
        code=result.code,
        latency_ms=result.latency_ms,
    )


def _status_changed(actor: Actor, connection: ExchangeConnection, before: str, result: ProbeResult) -> None:
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
        f"Your {exchange_spec(connection.exchange).name} connection “{connection.nickname}” is {label} again."
        if result.ok
        else f"Your {exchange_spec(connection.exchange).name} connection “{connection.nickname}” is {label}: "
        f"{result.message}"
    )
    link = f"{actor.site_url}/exchanges/" if actor.site_url else ""
    notify(
        user=connection.user,
        event_type="exchanges",
        title=title,
        body=body,
        payload={"connection_id": connection.pk, "status": connection.status},
        link=link,
    )


def _announce(connection: ExchangeConnection) -> None:
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


def _copy_state(source: ExchangeConnection, *, into: ExchangeConnection) -> None:
    if source is into:
        return
    for name in (
        "status",
        "last_checked_at",
        "latency_ms",
        "last_error_code",
        "consecutive_failures",
        "key_hint",
        "keys_set_at",
        "key_can_withdraw",
        "key_ip_restricted",
        "key_can_trade",
        "key_created_at",
        "api_key_sealed",
        "secret_sealed",
        "passphrase_sealed",
        "revoked_at",
        "updated_at",
    ):
        setattr(into, name, getattr(source, name))
