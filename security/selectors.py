"""Reads of the audit log as people see their own security activity (page, API, CSV).

Every read starts from the one gate, `AuditEvent.objects.visible_to(user)`. Here everyone, staff
included, reads the records about their own account; staff read everyone's only in the admin,
which asks the same gate as staff. A record becomes an `ActivityRow` before anyone sees it, so the
page, the API and both CSV downloads show the same thing: a staff member's address and browser
stay hidden from the user (as in the data export), and details were masked when written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet

from cryptovault.user_agents import describe_user_agent
from security.models import AuditEvent

# What each recorded action means, in words. An action missing here still shows, by its code.
ACTION_LABELS: dict[str, str] = {
    "order.placed": "Order placed",
    "order.cancelled": "Order cancelled",
    "order.rejected": "Order rejected",
    "paper.opened": "Paper account opened",
    "paper.reset": "Paper account reset",
    "trading_account.opened": "Exchange trading account opened",
    "trading_account.closed": "Exchange trading account closed",
    "auth.signed_in": "Signed in",
    "auth.signed_out": "Signed out",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.locked_out": "Locked out after failed sign-ins",
    "auth.lockout_cleared": "Lockout cleared",
    "auth.password_changed": "Password changed",
    "auth.token_issued": "API token issued",
    "auth.token_revoked": "API tokens revoked",
    "account.signed_up": "Account created",
    "account.sign_up_existing_email": "Sign-up tried with your email address",
    "account.role_assigned": "Role changed",
    "account.data_exported": "Data exported",
    "account.delete_refused": "Account deletion refused",
    "account.deleted": "Account deleted",
    "email.verification_sent": "Verification email sent",
    "email.verification_failed": "Email verification failed",
    "email.verified": "Email address verified",
    "2fa.totp_enabled": "Authenticator app turned on",
    "2fa.totp_confirm_failed": "Authenticator app set-up failed",
    "2fa.phone_code_sent": "Code texted",
    "2fa.phone_verified": "Phone verified for two-factor",
    "2fa.code_accepted": "Second factor accepted",
    "2fa.code_rejected": "Second factor rejected",
    "2fa.recovery_codes_regenerated": "New recovery codes",
    "2fa.disabled": "Two-factor authentication turned off",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "session.revoked": "Session signed out",
    "session.revoked_others": "Other sessions signed out",
    "profile.updated": "Profile updated",
    "profile.notifications_updated": "Notification settings changed",
    "exchange.connected": "Exchange connected",
    "exchange.connect_failed": "Exchange connection refused (test failed)",
    "exchange.tested": "Exchange keys tested",
    "exchange.updated": "Exchange connection edited",
    "exchange.rotated": "Exchange keys rotated",
    "exchange.rotation_failed": "Exchange key rotation failed",
    "exchange.revoked": "Exchange connection revoked",
    "exchange.status_changed": "Exchange connection status changed",
    "alert.created": "Price alert created",
    "alert.cancelled": "Price alert cancelled",
    "alert.fired": "Price alert fired",
}

VIA_LABELS: dict[str, str] = {
    "page": "Website",
    "api": "API",
    "admin": "Admin",
    "command": "Command",
    "task": "Background task",
    "system": "System",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


@dataclass(frozen=True)
class ActivityRow:
    """One audit record as the person it is about sees it."""

    id: int
    at: datetime
    action: str
    action_label: str
    outcome: str
    by: Literal["you", "staff", "someone"]
    via: str
    ip: str | None
    browser: str
    user_agent: str
    request_id: str
    details: dict[str, Any]

    @property
    def via_label(self) -> str:
        return VIA_LABELS.get(self.via, self.via)

    @property
    def details_text(self) -> str:
        """`key name: Script · scopes: read, trade`, for a table cell."""
        return " · ".join(
            f"{name.replace('_', ' ')}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in self.details.items()
        )


def audit_events_for(*, user: Any) -> QuerySet[AuditEvent]:
    """The records about `user`'s own account, newest first: where every activity read starts.

    Narrowed by `security.filters.AuditEventFilterSet`, which the page and the API apply to it.
    """
    return AuditEvent.objects.visible_to(user).order_by("-created_at", "-id")


def activity_row(event: AuditEvent) -> ActivityRow:
    by_staff = bool(event.details.get("by_staff"))
    # A staff member's address and browser are theirs, not the user's.
    user_agent = "" if by_staff else event.user_agent
    return ActivityRow(
        id=event.pk,
        at=event.created_at,
        action=event.action,
        action_label=action_label(event.action),
        outcome=event.outcome,
        by="staff" if by_staff else ("someone" if event.details.get("by_someone") else "you"),
        via=event.via,
        ip=None if by_staff else event.ip,
        browser=describe_user_agent(user_agent) if user_agent else "",
        user_agent=user_agent,
        request_id=event.request_id,
        details={name: value for name, value in event.details.items() if name not in ("by_staff", "by_someone")},
    )


def activity_rows(events: Iterable[AuditEvent]) -> list[ActivityRow]:
    return [activity_row(event) for event in events]


def audit_action_choices(events: QuerySet[AuditEvent], *, including: str = "") -> list[tuple[str, str]]:
    """The actions `events` hold (plus `including`, the one asked for), labelled, for a select."""
    actions = set(events.order_by().values_list("action", flat=True).distinct())
    if including:
        actions.add(including)
    return sorted(((action, action_label(action)) for action in actions), key=lambda choice: choice[1].lower())
