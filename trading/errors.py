"""What can go wrong with a price alert, in words a trader can act on.

An unknown market is `exchanges.errors.UnknownSymbol` (400, field `symbol`), shared with the market API.
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
