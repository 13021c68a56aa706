"""What the security controls refuse, worded for the person who hit it (pages and API alike)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from cryptovault.errors import DomainError, NotPermitted


class IpNotAllowed(NotPermitted, PermissionDenied):
    """A protected action came from an address outside the user's IP allowlist.

    Also Django's PermissionDenied: a page does not put it on a form (`cryptovault.pages.submit`
    lets it through) but answers the 403 page with this message; the API answers 403 with the code.
    """

    status_code = 403
    code = "ip_not_allowed"
    default_message = "Your IP allowlist does not include the address this request came from."

    def __init__(self, ip: str | None, *, action: str = "") -> None:
        self.ip = ip or ""
        self.action = action
        where = f"your current address, {ip}," if ip else "this request's address (unknown)"
        super().__init__(
            f"Refused: your IP allowlist does not include {where} so this action is blocked. "
            "Use an allowed network, or change the allowlist from one (Security > IP allowlist)."
        )


class WouldLockYouOut(DomainError):
    """An allowlist change would leave the address the user is on now outside the list."""

    status_code = 409
    code = "would_lock_you_out"


class AllowlistFull(DomainError):
    status_code = 400
    code = "allowlist_full"


# --- Withdrawal address whitelist (security.services.whitelist, security.selectors) ---------------
class WithdrawalAddressNotUsable(DomainError):
    """A withdrawal cannot go to this whitelisted address (yet, or any more). Subclasses say why."""

    status_code = 409
    code = "address_not_usable"
    default_message = "That withdrawal address cannot be used."

    def __init__(self, message: str | None = None, *, field: str | None = "destination") -> None:
        super().__init__(message, field=field)


class WithdrawalAddressNotFound(WithdrawalAddressNotUsable):
    """No such address in your whitelist (another user's address is not found either)."""

    status_code = 404
    code = "address_not_found"
    default_message = "No such address in your withdrawal whitelist."


class WithdrawalAddressRemoved(WithdrawalAddressNotUsable):
    code = "address_removed"
    default_message = "That address was removed from your withdrawal whitelist; add it again to use it."


class WithdrawalAddressCoolingDown(WithdrawalAddressNotUsable):
    """A new address waits WITHDRAWAL_ADDRESS_COOLDOWN_HOURS before withdrawals may use it."""

    code = "address_cooling_down"

    def __init__(self, usable_from, *, when: str, field: str | None = "destination") -> None:
        self.usable_from = usable_from
        super().__init__(
            f"This address was added recently and can be used for withdrawals from {when}. "
            "New addresses wait, so that someone who takes over your session cannot add one and withdraw at once.",
            field=field,
        )

    @property
    def extra(self) -> dict:
        return {"usable_from": self.usable_from.isoformat()}


class DuplicateWithdrawalAddress(DomainError):
    code = "duplicate_address"
    default_message = "This address is already in your withdrawal whitelist for that asset and network."

    def __init__(self, message: str | None = None, *, field: str | None = "address") -> None:
        super().__init__(message, field=field)


class WithdrawalWhitelistFull(DomainError):
    code = "whitelist_full"
