"""The trader's trading pages (see trading/urls.py).

- alerts.py: price alerts (/alerts/);
- portfolio.py: the portfolio (/portfolio/) and the dashboard's portfolio card; charts.py draws both;
- trade.py: the trade ticket with its confirmation (/trade/);
- orders.py: open orders, the history, one order, cancelling (/orders/...);
- transactions.py: the ledger with its filters and the CSV downloads (/transactions/...);
- accounts.py: trading accounts with their balances and the paper reset (/trading-accounts/...).
"""

from trading.views.accounts import accounts_page, paper_reset_view
from trading.views.alerts import AlertForm, AlertsView, alert_cancel_view
from trading.views.orders import OrderHistoryView, open_orders, order_cancel_view, order_detail
from trading.views.portfolio import portfolio_page
from trading.views.trade import trade
from trading.views.transactions import TransactionsView, trades_export, transactions_export

__all__ = [
    "AlertForm",
    "AlertsView",
    "OrderHistoryView",
    "TransactionsView",
    "accounts_page",
    "alert_cancel_view",
    "open_orders",
    "order_cancel_view",
    "order_detail",
    "paper_reset_view",
    "portfolio_page",
    "trade",
    "trades_export",
    "transactions_export",
]
