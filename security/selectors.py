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
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from cryptovault.user_agents import describe_user_agent
from security.actions import AUDIT_ACTIONS, action_label
from security.errors import WithdrawalAddressCoolingDown, WithdrawalAddressNotFound, WithdrawalAddressRemoved
from security.models import AuditEvent, WithdrawalAddress

# What each recorded action means, in words: the registry in security/actions.py (kept under this
# name for the pages, the API and the CSV that read it).
ACTION_LABELS: dict[str, str] = AUDIT_ACTIONS

VIA_LABELS: dict[str, str] = {
    "page": "Website",
    "api": "API",
    "admin": "Admin",
    "command": "Command",
    "task": "Background task",
    "system": "System",
}


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


# --- Withdrawal address whitelist ----------------------------------------------------------------
def withdrawal_addresses_for(*, user: Any, include_removed: bool = False) -> QuerySet[WithdrawalAddress]:
    """`user`'s whitelisted withdrawal addresses (the active ones unless `include_removed`)."""
    addresses = WithdrawalAddress.objects.visible_to(user)
    return addresses if include_removed else addresses.active()


def local_moment(at: datetime, user: Any) -> str:
    """`2026-12-02 18:40 Europe/Paris`: a moment in `user`'s time zone, as pages and messages show it."""
    zone = getattr(user, "timezone", None) or UTC
    zone = zone if isinstance(zone, tzinfo) else ZoneInfo(str(zone))
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} {zone}"


def usable_withdrawal_address(*, user: Any, pk: int, at: datetime) -> WithdrawalAddress:
    """The whitelisted address `pk` of `user` if a withdrawal made at `at` may go to it.

    Raises `WithdrawalAddressNotFound` (also for another user's id), `WithdrawalAddressRemoved`,
    or `WithdrawalAddressCoolingDown` (naming when, in the user's time zone).
    """
    try:
        address = WithdrawalAddress.objects.visible_to(user).get(pk=pk)
    except (WithdrawalAddress.DoesNotExist, ValueError, TypeError):
        raise WithdrawalAddressNotFound() from None
    if address.removed_at is not None:
        raise WithdrawalAddressRemoved()
    if address.usable_from > at:
        raise WithdrawalAddressCoolingDown(address.usable_from, when=local_moment(address.usable_from, user))
    return address


# --- Whitelist-only mode ---------------------------------------------------------------------------
def whitelist_only_in_force(user: Any, at: datetime) -> bool:
    """Must a withdrawal made at `at` by `user` go to a whitelisted address past its cooldown?

    The one reading of the mode. Turning it on counts at once; turning it off counts only from
    `withdrawal_whitelist_off_from` (the address cooldown later), so switching it off cannot skip
    the wait a newly whitelisted address has.
    """
    if user.withdrawal_whitelist_only:
        return True
    off_from = user.withdrawal_whitelist_off_from
    return off_from is not None and at < off_from


def whitelist_only_turns_off_at(user: Any, at: datetime) -> datetime | None:
    """When whitelist-only, still in force at `at`, turns off (None: it is not turning off)."""
    if user.withdrawal_whitelist_only or not whitelist_only_in_force(user, at):
        return None
    return user.withdrawal_whitelist_off_from
