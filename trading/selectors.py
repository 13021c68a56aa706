"""Reads of trading: price alerts, accounts, balances, orders, fills, the ledger and the portfolio.

Every read a person makes starts from the one gate, `Model.objects.visible_to(user)`: another
user's alert, account, order or entry is simply not found (404). Only the price feed reads
everyone's active alerts (`trading.services.alerts.alerts_evaluate`) and only the engine everyone's
resting orders.

Lists join what their rows show (`select_related`), so a page of one row and a page of a hundred
cost the same number of queries. The portfolio is computed from balances (one query) and one call
for every market's price, never from orders, so 10,000 orders cost nothing more than ten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q, QuerySet

from exchanges.market.feed import Ticker
from trading.models import (
    Balance,
    EquitySnapshot,
    Fill,
    LedgerEntry,
    Order,
    PriceAlert,
    TradingAccount,
)
from trading.models.orders import OrderQuerySet
from trading.portfolio import BalanceRow, Portfolio, current_tickers, value_portfolio

# Price alerts ----------------------------------------------------------------------------------


def alerts_for(*, user: Any) -> QuerySet[PriceAlert]:
    """The user's alerts, newest first; narrowed by `trading.filters.PriceAlertFilterSet`."""
    return PriceAlert.objects.visible_to(user).order_by("-created_at", "-id")


def alert_for(*, user: Any, pk: Any) -> PriceAlert:
    """The user's alert `pk` (any status); `PriceAlert.DoesNotExist` otherwise."""
    return PriceAlert.objects.visible_to(user).get(pk=pk)


# Accounts and balances -------------------------------------------------------------------------


def accounts_for(user: Any) -> QuerySet[TradingAccount]:
    """The user's trading accounts, paper first, closed (revoked) exchange accounts included."""
    return TradingAccount.objects.visible_to(user).select_related("connection").order_by("kind", "created_at", "id")


def account_for(user: Any, pk: Any) -> TradingAccount:
    """The user's trading account `pk`; `TradingAccount.DoesNotExist` otherwise (404)."""
    return accounts_for(user).get(pk=pk)


def balances_for(user: Any) -> QuerySet[Balance]:
    """Every balance of the user's accounts (zero ones too), by account then asset, accounts joined."""
    return Balance.objects.visible_to(user).select_related("account").order_by("account__kind", "account_id", "asset")


# Orders and fills ------------------------------------------------------------------------------


def orders_for(user: Any) -> OrderQuerySet:
    """The user's orders, newest first, their accounts joined; `trading.filters.OrderFilterSet` narrows."""
    return Order.objects.visible_to(user).select_related("account").order_by("-created_at", "-id")


def open_orders_for(user: Any) -> OrderQuerySet:
    """The orders still working (pending, open, partially filled): what the open orders page lists."""
    return orders_for(user).open()


def order_for(user: Any, pk: Any) -> Order:
    """The user's order `pk` (any status); `Order.DoesNotExist` otherwise (404)."""
    return orders_for(user).get(pk=pk)


def fills_for(user: Any) -> QuerySet[Fill]:
    """The user's trades (fills), newest first, with their order (symbol, side) and account joined."""
    return Fill.objects.visible_to(user).select_related("order", "account").order_by("-created_at", "-id")


def transactions_for(user: Any) -> QuerySet[LedgerEntry]:
    """Every ledger entry of the user's accounts (deposits, withdrawals, trades, fees, adjustments,
    resets), newest first, accounts joined; `trading.filters.TransactionFilterSet` narrows."""
    return LedgerEntry.objects.visible_to(user).select_related("account").order_by("-created_at", "-id")


# Portfolio -------------------------------------------------------------------------------------


def portfolio_balances_for(user: Any) -> QuerySet[Balance]:
    """What a portfolio is made of: the active accounts' balances that hold something or realised
    something (a revoked exchange account's last balances are history, not holdings)."""
    return (
        Balance.objects.visible_to(user)
        .filter(account__is_active=True)
        .filter(~Q(total=0) | ~Q(realized_pnl=0))
        .select_related("account")
        .order_by("asset", "account_id")
    )


def portfolio_for(user: Any, *, tickers: Iterable[Ticker] | Mapping[str, Ticker] | None = None) -> Portfolio:
    """The user's holdings across accounts at the current prices (method: average cost, see
    `trading.portfolio`). One query for the balances and one call for every market's price
    (`tickers`, when the caller already holds a tick, saves that call); orders are never read."""
    if tickers is None:
        market: Mapping[str, Ticker] = current_tickers()
    elif isinstance(tickers, Mapping):
        market = tickers
    else:
        market = {ticker.symbol: ticker for ticker in tickers}
    rows = portfolio_balances_for(user).values_list(*BalanceRow.FIELDS)
    return value_portfolio((BalanceRow(*row) for row in rows), market)


def equity_history_for(user: Any) -> QuerySet[EquitySnapshot]:
    """The user's daily equity snapshots, oldest first (a chart reads them left to right)."""
    return EquitySnapshot.objects.visible_to(user).order_by("date")
