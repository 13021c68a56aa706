"""Writing audit records. Services call `audit_record` for every sensitive action; the
accounts adapter and signal receivers call it for what allauth, Django and axes do on their own.

The action must be one of `security.actions.AUDIT_ACTIONS` (anything else is a programming error:
`UnknownAuditAction`), and a record, once written, is never edited or deleted (`security.models`).
"""

from __future__ import annotations

from typing import Any

from cryptovault.actor import Actor
from cryptovault.logging import mask_secrets
from security.actions import require_registered
from security.models import AuditEvent

_SECRET_DETAIL_NAMES = ("password", "secret", "token", "code", "key", "otp")
# Names that say "key" but hold only what identifies a key to its owner (a prefix, a name, the last 4).
_SHOWN_KEY_DETAILS = ("key_prefix", "key_name", "key_hint", "old_key_hint")
# Public identifiers, kept whole: where money went is what the log is for. A checksummed address
# (EIP-55, TRON, Solana, base58 Bitcoin) or a txid looks like a key to `mask_secrets`, but is not one.
_PUBLIC_DETAILS = frozenset(
    {
        "address",
        "memo",
        "txid",
        "destination",
        "network",
        "asset",
        "symbol",
        "exchange",
        "exchange_withdrawal_id",
        "client_order_id",
    }
)


def _safe_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details are for people reading the log: never a secret, even by accident.

    Names that say they hold a secret are replaced; public identifiers (`_PUBLIC_DETAILS`) are kept
    as they are; every other text goes through `mask_secrets`.
    """
    safe: dict[str, Any] = {}
    for name, value in details.items():
        if any(word in name.lower() for word in _SECRET_DETAIL_NAMES) and name not in _SHOWN_KEY_DETAILS:
            safe[name] = "***"
        elif name in _PUBLIC_DETAILS:
            safe[name] = value
        elif isinstance(value, str):
            safe[name] = mask_secrets(value)
        else:
            safe[name] = value
    return safe


def audit_record(
    action: str,
    /,
    *,
    actor: Actor,
    user: Any = None,
    actor_email: str = "",
    outcome: str = "success",
    **details: Any,
) -> AuditEvent:
    """Record `action` on `user`'s account (by default the actor's own) by `actor`.

    `actor_email` names an actor who is not signed in (a failed sign-in types an address).
    Staff acting on someone else's account stay named, and the record says `by_staff`; anyone else
    acting on an account not theirs says `by_someone` (callers say it too for an anonymous attempt).
    `action` is positional, so a detail may itself be called `action` (what an IP refusal refused).
    """
    require_registered(action)
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    if user is None:
        user = actor.user
    if not actor_email:
        actor_email = actor.user.email if actor.user is not None else (user.email if user is not None else "")
    if actor.user is not None and user is not None and not actor.acts_for(user):
        details = {**details, ("by_staff" if actor.user.is_staff else "by_someone"): True}
    return AuditEvent.objects.create(
        user=user,
        actor_email=actor_email[:254],
        action=action,
        outcome=outcome,
        via=actor.via,
        ip=actor.ip,
        user_agent=actor.user_agent[:512],
        request_id=actor.request_id,
        details=_safe_details(details),
    )
