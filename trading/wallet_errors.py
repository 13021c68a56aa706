"""What can go wrong with a withdrawal or a deposit, in words the owner can act on.

Bad input of one field (an unknown network, an amount below the network's minimum or not above its
fee, an address the whitelist does not hold) is a Django `ValidationError` keyed by the field, so the
API answers 400 with per-field `errors` and the page puts it under the field. These classes are the
refusals that are not one field's typo.
"""

from __future__ import annotations

from cryptovault.errors import DomainError


class WithdrawalExceedsBalance(DomainError):
    """More than the account has free (open orders hold the rest, or pending withdrawals do)."""

    status_code = 400
    code = "insufficient_funds"

    def __init__(self, *, asset: str, required: str, available: str) -> None:
        self.asset, self.required, self.available = asset, required, available
        super().__init__(
            f"Insufficient {asset}: this withdrawal needs {required} {asset}, {available} {asset} is available.",
            field="amount",
        )

    @property
    def extra(self) -> dict:
        return {"asset": self.asset, "required": self.required, "available": self.available}


class DailyLimitExceeded(DomainError):
    """Over WITHDRAWAL_DAILY_LIMIT_USDT in the last 24 hours, valued at current prices."""

    status_code = 400
    code = "daily_limit_exceeded"

    def __init__(self, *, limit: str, used: str, requested: str) -> None:
        self.limit, self.used, self.requested = limit, used, requested
        super().__init__(
            f"This withdrawal (about {requested} USDT) would take you over the daily withdrawal limit of {limit} USDT: "
            f"{used} USDT was withdrawn in the last 24 hours. Withdraw less, or wait.",
            field="amount",
        )

    @property
    def extra(self) -> dict:
        return {"limit": self.limit, "used": self.used, "requested": self.requested}


class PriceUnavailable(DomainError):
    """An amount must be valued in USDT (the daily limit, the paper deposit cap) and there is no price now."""

    status_code = 503
    code = "price_unavailable"

    def __init__(self, asset: str, *, purpose: str = "your daily withdrawal limit") -> None:
        self.asset = asset
        super().__init__(
            f"There is no current {asset}/USDT price, so {purpose} cannot be checked. Nothing was done; "
            "try again in a minute."
        )


class WithdrawalNotPermitted(DomainError):
    """The exchange connection's API key may not withdraw (as the exchange reported it)."""

    status_code = 409
    code = "withdrawal_not_permitted"
    default_message = (
        "This exchange connection's API key is not allowed to withdraw. Enable withdrawals for the key on the "
        "exchange (with this server's IP in the key's allowlist), then test the connection again."
    )

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="account")


class WithdrawalNotCancellable(DomainError):
    status_code = 409
    code = "withdrawal_not_cancellable"
    default_message = "Only a pending withdrawal can be cancelled: this one was sent, finished or cancelled already."


class NoDepositAddress(DomainError):
    """A paper account has no address on any chain: it takes simulated deposits."""

    status_code = 409
    code = "no_deposit_address"
    default_message = "A paper account has no deposit address: its money is virtual. Use the simulated deposit instead."


class NotAPaperAccountForDeposit(DomainError):
    status_code = 409
    code = "not_a_paper_account"
    default_message = (
        "Simulated deposits are for the paper account only: deposit to an exchange account at its deposit address."
    )


class DepositAddressUnavailable(DomainError):
    """The exchange could not answer the deposit address now; nothing changed."""

    status_code = 503
    code = "exchange_call_failed"

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)

    @property
    def extra(self) -> dict:
        return {"reason": self.reason}
