"""Writing audit records. Services call `audit_record` for every sensitive action; the
accounts adapter and signal receivers call it for what allauth, Django and axes do on their own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cryptovault.clientip import client_ip
from cryptovault.logging import mask_secrets
from cryptovault.request_context import current_request_id
from security.models import AuditEvent

_SECRET_DETAIL_NAMES = ("password", "secret", "token", "code", "key", "otp")


def _safe_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details are for people reading the log: never a secret, even by accident."""
    safe: dict[str, Any] = {}
    for name, value in details.items():
        if any(word in name.lower() for word in _SECRET_DETAIL_NAMES) and name not in ("key_prefix", "key_name"):
            safe[name] = "***"
        elif isinstance(value, str):
            safe[name] = mask_secrets(value)
        else:
            safe[name] = value
    return safe


def audit_record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user=None,
    actor_email: str = "",
    outcome: str = "success",
    **details: Any,
) -> AuditEvent:
    """Record `action` by `user` (or an unknown actor named by `actor_email`) from `request`."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    request_user = getattr(request, "user", None) if request is not None else None
    signed_in = request_user is not None and request_user.is_authenticated
    if user is None and signed_in:
        user = request_user
    if not actor_email:
        # The actor is whoever is signed in; staff acting on someone else's account stay named.
        actor_email = request_user.email if signed_in else (user.email if user is not None else "")
    if signed_in and user is not None and request_user.pk != user.pk:
        details = {**details, "by_staff": True}
    return AuditEvent.objects.create(
        user=user,
        actor_email=actor_email[:254],
        action=action,
        outcome=outcome,
        ip=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:512],
        request_id=current_request_id() if request is not None else "",
        details=_safe_details(details),
    )
