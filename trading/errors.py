"""What can go wrong with a price alert or an order, in words a trader can act on.

An unknown market is `exchanges.errors.UnknownSymbol` (400, field `symbol`), shared with the market API.
Errors of one step of an order stay beside it: `OpenOrderLimitReached` (placing), `OrderNotFillable`
(the engine), `ExchangeCallFailed` and the exchange's refusals (`trading.exchange_errors`).
"""

from __future__ import annotations

from cryptovault.errors import DomainError


class AlertNotActive(DomainError):
    """Only an active alert can be cancelled: a fired one stays fired, a cancelled one stays cancelled."""

    status_code = 409
    code = "alert_not_active"
    default_message = "This alert is no longer active: it has fired or was cancelled already."


class AlertLimitReached(DomainError):
    status_code = 409
    code = "alert_limit_reached"

    def __init__(self, limit: int):
        super().__init__(
            f"You have {limit} active alerts, the most we keep per account. Cancel one you no longer need first."
        )


# Orders ------------------------------------------------------------------------------------------


class InsufficientFunds(DomainError):
    """Placing would spend more than the account has free; the answer carries the numbers."""

    status_code = 400
    code = "insufficient_funds"

    def __init__(self, *, asset: str, required: object, available: object, field: str | None = None):
        self.asset, self.required, self.available = asset, required, available
        super().__init__(
            f"Insufficient {asset}: this order needs {required} {asset}, {available} {asset} is available.",
            field=field,
        )

    @property
    def extra(self) -> dict:
        return {"asset": self.asset, "required": str(self.required), "available": str(self.available)}


class ClientOrderIdConflict(DomainError):
    status_code = 409
    code = "client_order_id_conflict"
    default_message = (
        "An order with this client_order_id exists with different details. Use a new client_order_id for a new order."
    )


class OrderNotCancellable(DomainError):
    status_code = 409
    code = "order_not_cancellable"
    default_message = "Only an open order can be cancelled: this one is already filled, cancelled, rejected or expired."


class AccountInactive(DomainError):
    status_code = 409
    code = "account_inactive"
    default_message = "This trading account is closed: its exchange connection was revoked."


class OrderRejected(DomainError):
    """The exchange refused the order. The order is kept, rejected, with the exchange's reason."""

    status_code = 422
    code = "order_rejected"

    def __init__(self, message: str, *, order_id: int, reject_code: str):
        self.order_id, self.reject_code = order_id, reject_code
        super().__init__(message)

    @property
    def extra(self) -> dict:
        return {"order_id": self.order_id, "reject_code": self.reject_code}
