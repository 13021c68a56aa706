"""Trading's models: price alerts, accounts and their ledger, orders and fills, equity snapshots.

One module per concept; everything is importable from `trading.models`.
"""

from trading.models.accounts import AccountKind, Balance, TradingAccount
from trading.models.alerts import (
    CHANGE_KINDS,
    MAX_PERCENT,
    MAX_PRICE,
    NOTE_MAX_LENGTH,
    PRICE_KINDS,
    AlertKind,
    AlertStatus,
    PriceAlert,
    condition_holds,
    plain,
    validate_printable,
)
from trading.models.ledger import EntryKind, LedgerEntry
from trading.models.orders import (
    OPEN_STATUSES,
    Execution,
    Fill,
    OcoLeg,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from trading.models.snapshots import EquitySnapshot
from trading.models.wallet import OPEN_WITHDRAWAL_STATUSES, Withdrawal, WithdrawalStatus

__all__ = [
    "CHANGE_KINDS",
    "MAX_PERCENT",
    "MAX_PRICE",
    "NOTE_MAX_LENGTH",
    "OPEN_STATUSES",
    "OPEN_WITHDRAWAL_STATUSES",
    "PRICE_KINDS",
    "AccountKind",
    "AlertKind",
    "AlertStatus",
    "Balance",
    "EntryKind",
    "EquitySnapshot",
    "Execution",
    "Fill",
    "LedgerEntry",
    "OcoLeg",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PriceAlert",
    "TimeInForce",
    "TradingAccount",
    "Withdrawal",
    "WithdrawalStatus",
    "condition_holds",
    "plain",
    "validate_printable",
]
