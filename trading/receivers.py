"""What trading does when other apps say something happened (connected in `TradingConfig.ready`).

- Every price tick the publisher sends (`exchanges.market.signals.price_tick`) is evaluated twice,
  by two receivers: the price alerts and the paper engine (resting orders, triggers of emulated
  exchange orders). `exchanges` never imports `trading`. A failure here is logged and swallowed:
  the publisher must go on pushing prices to /ws/prices, and the next tick evaluates again (an
  alert fires once, an order fills once, whatever happens).
- A verified email address opens the user's paper account: allauth's `email_confirmed` (its link
  page) and every save of a verified `EmailAddress` (our code and link services, the demo seed and
  the admin mark it verified without that signal). Opening is idempotent, so both may fire.
- An exchange connection saved for the first time opens its trading account; once revoked, the
  account closes and the orders held here for it are cancelled (`exchanges` sends no signal of
  its own for these, so this follows the connection's row).
- The user's data export gets the alerts; deleting the account cancels its alerts and orders.
"""

from __future__ import annotations

import logging
from typing import Any

from cryptovault.actor import Actor
from trading.models import PriceAlert
from trading.services.alerts import alerts_cancel_all, alerts_evaluate

logger = logging.getLogger(__name__)


def evaluate_orders_on_tick(sender: Any, *, tickers: Any = (), **kwargs: Any) -> None:
    from trading.services.engine import evaluate_tick

    try:
        done = evaluate_tick(tickers=list(tickers))
    except Exception:
        logger.exception("Orders could not be evaluated on this tick; the next tick tries again.")
        return
    if done:
        logger.info("Orders filled or triggered on this tick: %s", ", ".join(str(order.pk) for order in done))


def open_paper_account_on_email_confirmed(
    sender: Any, *, request: Any = None, email_address: Any, **kwargs: Any
) -> None:
    _open_paper_account(Actor.from_request_or_system(request), email_address.user)


def open_paper_account_on_verified_address(sender: Any, *, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not instance.verified:
        return
    _open_paper_account(Actor.system(), instance.user)


def _open_paper_account(actor: Actor, user: Any) -> None:
    """Idempotent, and never in the way of the verification itself: a failure is logged (the data
    migration's and the next verification's opening catch up)."""
    from trading.services.accounts import paper_account_open

    try:
        paper_account_open(actor=actor, user=user)
    except Exception:
        logger.exception("The paper account of user %s could not be opened", getattr(user, "pk", None))


def follow_exchange_connection(
    sender: Any, *, instance: Any, created: bool = False, raw: bool = False, **kwargs: Any
) -> None:
    """A new connection gets its trading account; a revoked one's account closes (held orders cancelled)."""
    from trading.services.accounts import exchange_account_close, exchange_account_open

    if raw:
        return
    try:
        if instance.revoked_at is not None:
            exchange_account_close(actor=Actor.system(), connection=instance)
        elif created:
            exchange_account_open(actor=Actor.system(), connection=instance)
    except Exception:
        logger.exception("The trading account of exchange connection %s could not be updated", instance.pk)


def evaluate_alerts_on_tick(sender: Any, *, tickers: Any = (), **kwargs: Any) -> None:
    try:
        fired = alerts_evaluate(tickers=list(tickers))
    except Exception:
        logger.exception("Price alerts could not be evaluated on this tick; the next tick tries again.")
        return
    if fired:
        logger.info("Price alerts fired on this tick: %s", ", ".join(str(alert.pk) for alert in fired))


def export_alerts(sender: Any, *, user: Any, **kwargs: Any) -> dict:
    """The user's price alerts, in their data export."""
    return {
        "price_alerts": [
            {
                "symbol": a.symbol,
                "kind": a.kind,
                "threshold": str(a.threshold),
                "note": a.note,
                "status": a.status,
                "created_at": a.created_at.isoformat(),
                "fired_at": a.fired_at.isoformat() if a.fired_at else None,
                "fired_price": str(a.fired_price) if a.fired_price is not None else None,
            }
            for a in PriceAlert.objects.visible_to(user).order_by("created_at", "id")
        ]
    }


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def export_trading(sender: Any, *, user: Any, **kwargs: Any) -> dict:
    """The user's trading accounts, balances, orders, trades and ledger, in their data export."""
    from trading.models import Balance, Fill, LedgerEntry, Order, TradingAccount
    from trading.services.orders import order_payload

    return {
        "trading_accounts": [
            {
                "id": a.pk,
                "kind": a.kind,
                "name": a.name,
                "is_active": a.is_active,
                "created_at": a.created_at.isoformat(),
            }
            for a in TradingAccount.objects.visible_to(user).order_by("id")
        ],
        "balances": [
            {
                "account_id": b.account_id,
                "asset": b.asset,
                "total": _text(b.total),
                "locked": _text(b.locked),
                "cost_basis": _text(b.cost_basis),
                "realized_pnl": _text(b.realized_pnl),
            }
            for b in Balance.objects.visible_to(user).order_by("account_id", "asset")
        ],
        "orders": [order_payload(o) for o in Order.objects.visible_to(user).order_by("created_at", "id")],
        "trades": [
            {
                "order_id": f.order_id,
                "account_id": f.account_id,
                "price": _text(f.price),
                "quantity": _text(f.quantity),
                "quote_quantity": _text(f.quote_quantity),
                "fee": _text(f.fee),
                "fee_asset": f.fee_asset,
                "is_maker": f.is_maker,
                "created_at": f.created_at.isoformat(),
            }
            for f in Fill.objects.visible_to(user).order_by("created_at", "id")
        ],
        "transactions": [
            {
                "account_id": e.account_id,
                "asset": e.asset,
                "kind": e.kind,
                "amount": _text(e.amount),
                "balance_after": _text(e.balance_after),
                "order_id": e.order_id,
                "note": e.note,
                "created_at": e.created_at.isoformat(),
            }
            for e in LedgerEntry.objects.visible_to(user).order_by("created_at", "id")
        ],
    }


def cancel_alerts_of_deleted_account(sender: Any, *, actor: Any, user: Any, **kwargs: Any) -> None:
    alerts_cancel_all(actor=actor, user=user)


def cancel_orders_of_deleted_account(sender: Any, *, actor: Any, user: Any, **kwargs: Any) -> None:
    from trading.services.orders import orders_cancel_all

    orders_cancel_all(actor=actor, user=user)
