"""Edit and revoke connections: no exchange call, no second factor."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.notify import notify
from cryptovault.actor import Actor
from exchanges.catalogue import exchange_spec
from exchanges.credentials import wipe
from exchanges.models import NICKNAME_TAKEN, ExchangeConnection, Status
from exchanges.services.state import announce, copy_state, refuse_revoked
from security.audit import audit_record
from security.ip_allowlist import protected_action


@protected_action("exchange.update")
def connection_update(
    *, actor: Actor, connection: ExchangeConnection, nickname: str | None = None, features: list[str] | None = None
) -> ExchangeConnection:
    """Rename a connection or change what it is used for; the keys stay as they are.

    Under a lock on the row, so an edit racing a revoke cannot rename what was just revoked.
    """
    refuse_revoked(connection)
    try:
        with transaction.atomic():
            locked = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
            refuse_revoked(locked)
            changed: dict[str, Any] = {}
            if nickname is not None and nickname.strip() != locked.nickname:
                locked.nickname = nickname
                changed["nickname"] = nickname.strip()
            if features is not None and sorted(set(features)) != sorted(locked.features):
                locked.features = list(features)
                changed["features"] = sorted(set(features))
            if not changed:
                return connection
            locked.full_clean(exclude=["api_key_sealed", "secret_sealed", "passphrase_sealed"])
            locked.save(update_fields=["nickname", "features", "updated_at"])
            audit_record("exchange.updated", actor=actor, user=locked.user, connection_id=locked.pk, **changed)
            announce(locked)
    except IntegrityError as exc:  # the same nickname taken a moment ago by another request
        raise ValidationError({"nickname": NICKNAME_TAKEN}) from exc
    copy_state(locked, into=connection)
    return connection


@protected_action("exchange.revoke")
def connection_revoke(*, actor: Actor, connection: ExchangeConnection) -> ExchangeConnection:
    """Stop using a connection: keys wiped from the database, the row kept for the audit trail.

    No second factor is asked: someone whose keys leaked must be able to cut them off at once.
    Revoke the key on the exchange too; we cannot do that for you.
    """
    with transaction.atomic():
        locked = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
        if locked.is_active:
            _revoke_row(actor, locked, user=locked.user)
            announce(locked)
            if not actor.acts_for(locked.user):  # staff (the admin) or an operator: the owner must know
                spec = exchange_spec(locked.exchange)
                notify(
                    user=locked.user,
                    event="exchanges.connection_revoked",
                    context={
                        "nickname": locked.nickname,
                        "exchange": spec.name,
                        "connection_id": locked.pk,
                        "status": locked.status,
                        "link": reverse("exchanges:connections"),
                    },
                )
    copy_state(locked, into=connection)
    return connection


def connections_revoke_all(*, actor: Actor, user: User) -> int:
    """Every active connection of `user` revoked and its keys wiped (the account is being deleted).

    No one is told: the person deleting the account asked for it.
    """
    revoked = 0
    with transaction.atomic():
        for connection in ExchangeConnection.objects.visible_to(user).active().select_for_update():
            _revoke_row(actor, connection, user=user, reason="account deleted")
            revoked += 1
    return revoked


def _revoke_row(actor: Actor, connection: ExchangeConnection, *, user: User, **details: Any) -> None:
    """Keys wiped, the (locked) row marked revoked and kept for the audit trail, and its record.

    `user` is the connection's owner, passed in so that revoking many rows reads the owner once.
    """
    wipe(connection)
    connection.status, connection.revoked_at = Status.REVOKED, timezone.now()
    connection.save()
    audit_record(
        "exchange.revoked",
        actor=actor,
        user=user,
        connection_id=connection.pk,
        exchange=connection.exchange,
        nickname=connection.nickname,
        key_hint=connection.key_hint,
        **details,
    )
