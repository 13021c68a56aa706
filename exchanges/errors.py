"""What can go wrong with an exchange connection, in words a trader can act on."""

from __future__ import annotations

from cryptovault.errors import DomainError


class UnknownExchange(DomainError):
    code = "unknown_exchange"

    def __init__(self, exchange_id: str = ""):
        super().__init__(f"We do not support the exchange {exchange_id!r}." if exchange_id else None, field="exchange")


class ConnectionTestFailed(DomainError):
    """The keys did not pass the test; nothing was saved (or the old keys were kept)."""

    status_code = 400
    code = "connection_test_failed"

    def __init__(self, message: str, *, test_code: str):
        super().__init__(message, field=None)
        self.test_code = test_code

    @property
    def extra(self) -> dict:
        return {"test_code": self.test_code}


class ConnectionRevoked(DomainError):
    status_code = 409
    code = "connection_revoked"
    default_message = "This connection was revoked; connect the account again with new keys."


class KeysUnreadable(DomainError):
    """The stored keys do not decrypt with any FIELD_ENCRYPTION_KEYS entry (one was dropped too early)."""

    status_code = 409
    code = "keys_unreadable"
    default_message = (
        "The stored keys cannot be decrypted: an encryption key was removed too early. Rotate the keys here, "
        "or ask an operator to put the old FIELD_ENCRYPTION_KEYS entry back."
    )


class UnknownSymbol(DomainError):
    code = "unknown_symbol"

    def __init__(self, symbol: str = ""):
        super().__init__(
            f"We do not follow the market {symbol!r}; see /api/v1/market/tickers/ for the ones we do."
            if symbol
            else "Unknown market symbol.",
            field="symbol",
        )
