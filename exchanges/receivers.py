"""What exchanges does when accounts asks: a user's connections in their data export, and revoked when
their account is deleted (accounts.services.your_data's signals; connected in ExchangesConfig.ready)."""

from __future__ import annotations

from typing import Any

from exchanges.selectors import connections_for
from exchanges.services.connections import connections_revoke_all


def export_connections(sender: Any, *, user: Any, **kwargs: Any) -> dict:
    """The user's connections, revoked ones too, without a key: the last four characters only."""
    return {
        "exchange_connections": [
            {
                "exchange": c.exchange,
                "nickname": c.nickname,
                "sandbox": c.sandbox,
                "features": c.features,
                "key_hint": c.key_hint,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "last_checked_at": c.last_checked_at.isoformat() if c.last_checked_at else None,
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in connections_for(user=user, include_revoked=True)
        ]
    }


def revoke_connections_of_deleted_account(sender: Any, *, actor: Any, user: Any, **kwargs: Any) -> None:
    connections_revoke_all(actor=actor, user=user)
