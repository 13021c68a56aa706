"""Keys in and out: test keys, connect with them, replace them. Each reaches the exchange first.

Connecting and rotating need a fresh second factor (the sensitive-action gate), and keys are stored
only once the exchange has accepted them, unless the user knowingly saves keys that failed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.gates import require_sensitive_action
from accounts.models import User
from cryptovault.actor import Actor
from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.credentials import checked_credentials, seal_into
from exchanges.errors import ConnectionTestFailed
from exchanges.models import NICKNAME_TAKEN, ConnectionCheck, ExchangeConnection, Feature, Status
from exchanges.probe import ProbeResult, probe
from exchanges.services.health import status_changed
from exchanges.services.state import announce, apply_result, copy_state, record_check, refuse_revoked
from security.audit import audit_record
from security.ip_allowlist import protected_action

DEFAULT_FEATURES = [Feature.TRADING, Feature.WALLET]


def connection_test(
    *, actor: Actor, exchange: str, api_key: str, secret: str, passphrase: str = "", sandbox: bool = False
) -> ProbeResult:
    """Test keys that are not stored (the wizard's step 3, POST /connections/test/); audited, never saved."""
    spec = exchange_spec(exchange)
    credentials = checked_credentials(spec, api_key=api_key, secret=secret, passphrase=passphrase)
    _refuse_missing_sandbox(spec, sandbox)
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
        sandbox=sandbox,
        features=list(DEFAULT_FEATURES if features is None else features),
    )
    connection.full_clean(exclude=["api_key_sealed", "secret_sealed", "passphrase_sealed"])
    _refuse_missing_sandbox(spec, sandbox)
    return connection


def _refuse_missing_sandbox(spec: ExchangeSpec, sandbox: bool) -> None:
    """Asked for a testnet the exchange does not have: say so, never quietly use the live exchange."""
    if sandbox and not spec.supports_sandbox:
        raise ValidationError({"sandbox": f"{spec.name} has no sandbox or testnet that ccxt can reach."})


@protected_action("exchange.connect")
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
    apply_result(connection, result)
    if not result.ok:  # saved knowingly past a failing test: in error until a check passes
        connection.status = Status.ERROR
        connection.consecutive_failures = settings.CONNECTION_ERROR_AFTER_FAILURES
    try:
        with transaction.atomic():
            _save_new(actor, connection, result, spec)
    except IntegrityError as exc:  # the same nickname saved a moment ago by another request
        raise ValidationError({"nickname": NICKNAME_TAKEN}) from exc
    return connection, result


def _save_new(actor: Actor, connection: ExchangeConnection, result: ProbeResult, spec: ExchangeSpec) -> None:
    connection.save()
    record_check(connection, result, ConnectionCheck.Trigger.CONNECT)
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
    announce(connection)


@protected_action("exchange.rotate")
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
    refuse_revoked(connection)
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
        refuse_revoked(locked)
        before = locked.status
        old_hint = locked.key_hint
        seal_into(locked, credentials)
        locked.keys_set_at = timezone.now()
        locked.key_created_at = None
        apply_result(locked, result)
        locked.save()
        record_check(locked, result, ConnectionCheck.Trigger.ROTATE)
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
            status_changed(actor, locked, before, result)
        announce(locked)
    copy_state(locked, into=connection)
    return result
