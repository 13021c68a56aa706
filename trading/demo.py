"""The demo trader's paper account with a few orders, for `seed_demo` on the offline demo.

Everything goes through the real services, as a trader's clicks would: the account is opened by
`paper_account_open`, the orders are placed by `order_place` and filled by the paper engine at the
current price (the replay under `make run`). A newcomer signing in then sees a portfolio with a few
assets, some history in the transactions, and orders waiting in the open orders list: a limit buy
below the price, a stop-loss and a take-profit. The resting orders' prices are set well away from the
current price, so they stay open for a while, then fill as the replay moves.

Idempotent: once the demo orders exist (their client order ids start with `demo-`), nothing is placed
again, even though the prices will have moved since.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError

from accounts.models import User
from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from trading.markets import market_rules
from trading.models import Balance, Order, OrderStatus, TradingAccount
from trading.prices import current_ticker
from trading.services.accounts import paper_account_open
from trading.services.orders import order_place

DEMO_PREFIX = "demo-"


@dataclass(frozen=True)
class DemoOrder:
    """One order of the demo. Resting orders give their price as a factor of the current price."""

    key: str
    symbol: str
    side: str
    type: str
    quote_amount: Decimal | None = None  # market orders: how much USDT to spend or receive
    spend: Decimal | None = None  # limit buys: USDT to commit at the limit price
    share_of_holding: Decimal | None = None  # sells: part of what the account holds of the base asset
    price_factor: Decimal | None = None
    stop_factor: Decimal | None = None


DEMO_ORDERS = [
    # Filled at once by the paper engine, at the current price with the configured slippage.
    DemoOrder("btc-buy", "BTC/USDT", "buy", "market", quote_amount=Decimal(3000)),
    DemoOrder("eth-buy", "ETH/USDT", "buy", "market", quote_amount=Decimal(1500)),
    DemoOrder("sol-buy", "SOL/USDT", "buy", "market", quote_amount=Decimal(600)),
    DemoOrder("eth-sell", "ETH/USDT", "sell", "market", quote_amount=Decimal(300)),
    # Resting: a limit buy 8% under the price, a stop-loss 12% under it, a take-profit 20% over it.
    DemoOrder("btc-dip", "BTC/USDT", "buy", "limit", spend=Decimal(800), price_factor=Decimal("0.92")),
    DemoOrder(
        "eth-stop", "ETH/USDT", "sell", "stop_loss", share_of_holding=Decimal("0.5"), stop_factor=Decimal("0.88")
    ),
    DemoOrder(
        "sol-target", "SOL/USDT", "sell", "take_profit", share_of_holding=Decimal("0.5"), stop_factor=Decimal("1.2")
    ),
]


def _floor(value: Decimal, step: Decimal) -> Decimal:
    """`value` down to a multiple of `step` (the market's tick or step), so the order is accepted as is."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def _order_terms(account: TradingAccount, demo: DemoOrder) -> dict:
    """The keyword arguments of `order_place` for one demo order, at the current price and holdings."""
    terms: dict = {"symbol": demo.symbol, "side": demo.side, "type": demo.type}
    if demo.type == "market":
        return {**terms, "quote_amount": demo.quote_amount}
    rules = market_rules(account, demo.symbol)
    last = current_ticker(demo.symbol).last
    if demo.price_factor is not None:
        terms["price"] = _floor(last * demo.price_factor, rules.price_tick)
    if demo.stop_factor is not None:
        terms["stop_price"] = _floor(last * demo.stop_factor, rules.price_tick)
    if demo.spend is not None:
        quantity = demo.spend / terms["price"]
    else:
        base = demo.symbol.split("/")[0]
        held = Balance.objects.filter(account=account, asset=base).first()
        quantity = (held.available if held else Decimal(0)) * (demo.share_of_holding or Decimal(1))
    terms["quantity"] = _floor(quantity, rules.qty_step)
    return terms


def demo_trading_ensure(*, actor: Actor, user: User) -> tuple[TradingAccount, str]:
    """The user's paper account with the demo orders (placed once), and a line saying what happened."""
    account = paper_account_open(actor=actor, user=user)
    demo_orders = Order.objects.filter(account=account, client_order_id__startswith=DEMO_PREFIX)
    if demo_orders.exists():
        return account, f"{account.name}: already there"
    for demo in DEMO_ORDERS:
        try:
            terms = _order_terms(account, demo)
            order_place(actor=actor, account=account, client_order_id=DEMO_PREFIX + demo.key, **terms)
        except (DomainError, ValidationError) as refused:  # e.g. a market the rules snapshot lacks
            return account, f"{account.name}: demo order {demo.key} refused ({refused})"
    filled = demo_orders.filter(status=OrderStatus.FILLED).count()
    waiting = demo_orders.filter(status__in=[OrderStatus.OPEN, OrderStatus.PENDING]).count()
    return account, f"{account.name}: {filled} orders filled, {waiting} open"
