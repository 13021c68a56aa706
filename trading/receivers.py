"""Price alerts listen to the price feed: every tick the publisher sends is evaluated here.

`exchanges` never imports `trading`: the publisher sends `exchanges.market.signals.price_tick`
and this receiver (connected in `TradingConfig.ready`) hands the tickers to the service. A failure
here is logged and swallowed: the publisher must go on pushing prices to /ws/prices, and the
alerts are evaluated again on the next tick (an alert fires only once whatever happens).
"""

from __future__ import annotations

import logging
from typing import Any

from trading.models import PriceAlert
from trading.services.alerts import alerts_cancel_all, alerts_evaluate

logger = logging.getLogger(__name__)


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


def cancel_alerts_of_deleted_account(sender: Any, *, actor: Any, user: Any, **kwargs: Any) -> None:
    alerts_cancel_all(actor=actor, user=user)
