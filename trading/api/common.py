"""The base of every trading endpoint: who may call it with a personal API key.

Reading (accounts, balances, orders, trades, transactions, the portfolio) takes the `read` scope.
Everything that acts (placing and cancelling orders, resetting the paper account, setting and
cancelling alerts) takes `trade`. Session and JWT clients do everything. Another user's account,
order or alert is not found (404) for every method: each read starts from a selector, behind the
one read gate.
"""

from __future__ import annotations

from cryptovault.api.views import ServiceApiView

TRADING_API_KEY_SCOPES = {"GET": "read", "POST": "trade", "DELETE": "trade"}


class TradingApiView(ServiceApiView):
    """Reads for `read` keys, acts for `trade` keys (see the module)."""

    api_key_scopes = TRADING_API_KEY_SCOPES
