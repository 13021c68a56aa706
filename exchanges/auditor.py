"""The key auditor: what about a stored key deserves the owner's attention.

Run on connect and after every check (the card and the API show the result). CryptoVault never
needs a key that can withdraw, and a key bound to our outbound IP is useless to a thief who copies
it; old keys get a rotation reminder. Exchanges that do not report a key's permissions are said to
not report them, rather than silently passing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from exchanges.catalogue import exchange_spec
from exchanges.models import ExchangeConnection


@dataclass(frozen=True)
class KeyWarning:
    code: str
    level: str  # "danger", "warning" or "info"
    message: str


def key_warnings(connection: ExchangeConnection) -> list[KeyWarning]:
    if not connection.is_active:
        return []
    spec = exchange_spec(connection.exchange)
    warnings = []
    if connection.key_can_withdraw:
        warnings.append(
            KeyWarning(
                "can_withdraw",
                "danger",
                "This key can withdraw funds. CryptoVault never needs that: turn withdrawals off for the key on "
                f"{spec.name}, or make a new key without it and rotate.",
            )
        )
    if connection.key_ip_restricted is False:
        where = f" to {settings.EGRESS_IP}" if settings.EGRESS_IP else " to this server's outbound IP"
        warnings.append(
            KeyWarning(
                "no_ip_restriction",
                "warning",
                f"This key works from any IP address. Restrict it on {spec.name}{where}, so a copy is useless "
                "anywhere else.",
            )
        )
    if connection.key_can_withdraw is None and not spec.reports_key_permissions:
        warnings.append(
            KeyWarning(
                "permissions_unknown",
                "info",
                f"{spec.name} does not tell us a key's permissions. Check there that withdrawals are off and the "
                "key is bound to our IP.",
            )
        )
    age_days = connection.key_age.days
    if age_days >= settings.KEY_ROTATION_REMINDER_DAYS:
        warnings.append(
            KeyWarning(
                "old_key",
                "warning",
                f"This key is {age_days} days old. Rotate keys every {settings.KEY_ROTATION_REMINDER_DAYS} days: "
                "make a new key on the exchange, rotate it here, then delete the old one there.",
            )
        )
    return warnings
