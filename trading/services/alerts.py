"""Price alerts: created and cancelled by their owner, fired by the price feed.

Firing is a compare-and-swap: `UPDATE ... SET status='fired' WHERE id=... AND status='active'`, and
only the caller whose update changed the row tells the owner. Two publishers (or two ticks) racing
over the same alert cannot both fire it, and a cancel racing a fire leaves exactly one of them
done: the row lock (PostgreSQL) or the write lock of an IMMEDIATE transaction (SQLite) makes the
second update see the first one's status. A fired alert stays fired; set a new one to watch again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.notify import notify
from cryptovault.actor import Actor
from cryptovault.events import broadcast_on_commit, user_group
from exchanges.market.symbols import parse_symbol
from security.audit import audit_record
from trading.errors import AlertLimitReached, AlertNotActive
from trading.models import AlertKind, AlertStatus, PriceAlert, condition_holds, plain

if TYPE_CHECKING:
    from exchanges.market.feed import Ticker

logger = logging.getLogger(__name__)

# Active alerts one account may hold: each is read on every tick, so the total stays bounded.
MAX_ACTIVE_ALERTS_PER_USER = 100
EVENT_TYPE = "alerts"


def alert_payload(alert: PriceAlert) -> dict[str, Any]:
    """What the owner's open pages are told about an alert (decimals as strings, as in the API)."""
    return {
        "id": alert.pk,
        "symbol": alert.symbol,
        "kind": alert.kind,
        "threshold": str(alert.threshold),
        "status": alert.status,
        "fired_at": alert.fired_at.isoformat() if alert.fired_at else None,
        "fired_price": str(alert.fired_price) if alert.fired_price is not None else None,
        "fired_source": alert.fired_source,
        "fired_source_label": alert.fired_source_label,
    }


def alert_create(
    *, actor: Actor, user: User, symbol: str, kind: str, threshold: Decimal | str | int, note: str = ""
) -> PriceAlert:
    """A new active alert on one of the followed markets (`symbol` in any spelling parse_symbol reads)."""
    alert = PriceAlert(user=user, symbol=parse_symbol(symbol), kind=kind, threshold=threshold, note=note or "")
    alert.full_clean()
    with transaction.atomic():
        # One creation at a time per account, so two at once cannot both pass the cap.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        if PriceAlert.objects.visible_to(user).active().count() >= MAX_ACTIVE_ALERTS_PER_USER:
            raise AlertLimitReached(MAX_ACTIVE_ALERTS_PER_USER)
        alert.save()
        audit_record(
            "alert.created",
            actor=actor,
            user=user,
            alert_id=alert.pk,
            symbol=alert.symbol,
            kind=alert.kind,
            threshold=str(alert.threshold),
        )
        broadcast_on_commit(user_group(user.pk), "alert.created", alert_payload(alert))
    return alert


def alert_cancel(*, actor: Actor, alert: PriceAlert) -> PriceAlert:
    """Stop watching: only an active alert; one that fired (or was cancelled) meanwhile is refused (409)."""
    now = timezone.now()
    with transaction.atomic():
        changed = PriceAlert.objects.filter(pk=alert.pk, status=AlertStatus.ACTIVE).update(
            status=AlertStatus.CANCELLED, cancelled_at=now
        )
        if not changed:
            alert.refresh_from_db()
            raise AlertNotActive(
                f"This alert already fired on {alert.fired_at:%Y-%m-%d %H:%M} UTC; it stays fired."
                if alert.status == AlertStatus.FIRED and alert.fired_at
                else None
            )
        alert.status, alert.cancelled_at = AlertStatus.CANCELLED, now
        audit_record(
            "alert.cancelled", actor=actor, user=alert.user, alert_id=alert.pk, symbol=alert.symbol, kind=alert.kind
        )
        broadcast_on_commit(user_group(alert.user_id), "alert.cancelled", alert_payload(alert))
    return alert


# --- firing ---------------------------------------------------------------------------------------------
def _reached_on(ticker: Ticker) -> Q:
    """The alerts this tick reaches, as SQL (the candidates; `condition_holds` has the last word)."""
    return Q(symbol=ticker.symbol) & (
        Q(kind=AlertKind.ABOVE, threshold__lte=ticker.last)
        | Q(kind=AlertKind.BELOW, threshold__gte=ticker.last)
        | Q(kind=AlertKind.CHANGE_UP, threshold__lte=ticker.change_24h_pct)
        | Q(kind=AlertKind.CHANGE_DOWN, threshold__lte=-ticker.change_24h_pct)
    )


def counts_for_alerts(ticker: Ticker) -> bool:
    """A replayed price fires alerts only where the replay is the configured source (the demo).

    When the exchange blinks and the feed falls back to a replayed day, that price never happened
    now: an alert that fires once must not be used up on it. Orders follow the same rule
    (`trading.prices.counts_now`).
    """
    from trading.prices import counts_now

    return counts_now(ticker)


def alerts_evaluate(*, tickers: Iterable[Ticker]) -> list[PriceAlert]:
    """Fire every active alert this tick reaches, each once; returns the alerts this call fired.

    The system reads everyone's active alerts here (no person asks, so no `visible_to`): one query
    for all the tickers, on the partial index of active alerts, whatever the number of alerts it
    does not reach. Each alert reached then costs its own compare-and-swap, audit record and
    notification. An alert that cannot be fired (a database error, say) is logged and left active,
    so the next tick tries it again and the others are fired meanwhile.
    """
    latest = {ticker.symbol: ticker for ticker in tickers if counts_for_alerts(ticker)}
    if not latest:
        return []
    candidates = (
        PriceAlert.objects.active()
        .filter(reduce(or_, (_reached_on(ticker) for ticker in latest.values())))
        .select_related("user")
        .order_by("created_at", "id")
    )
    actor, fired = Actor.system(), []
    for alert in candidates:
        ticker = latest[alert.symbol]
        if not condition_holds(alert.kind, alert.threshold, last=ticker.last, change_24h_pct=ticker.change_24h_pct):
            continue
        try:
            if alert_fire(actor=actor, alert=alert, ticker=ticker):
                fired.append(alert)
        except Exception:
            logger.exception("Price alert %s could not be fired; it stays active for the next tick.", alert.pk)
    return fired


def alert_fire(*, actor: Actor, alert: PriceAlert, ticker: Ticker) -> bool:
    """Move one alert from active to fired by `ticker` and tell its owner; False, and nothing told, when
    it is not active any more (another publisher fired it first, or its owner cancelled it).

    The caller has checked that the tick reaches the alert (`alerts_evaluate` does).
    """
    now = timezone.now()
    values = {
        "status": AlertStatus.FIRED,
        "fired_at": now,
        "fired_price": ticker.last,
        "fired_change_pct": ticker.change_24h_pct,
        "fired_source": ticker.source[:32],
        "fired_source_label": ticker.source_label[:200],
    }
    with transaction.atomic():
        if not PriceAlert.objects.filter(pk=alert.pk, status=AlertStatus.ACTIVE).update(**values):
            return False
        for name, value in values.items():
            setattr(alert, name, value)
        audit_record(
            "alert.fired",
            actor=actor,
            user=alert.user,
            alert_id=alert.pk,
            symbol=alert.symbol,
            kind=alert.kind,
            threshold=str(alert.threshold),
            price=str(ticker.last),
            change_24h_pct=str(ticker.change_24h_pct),
            source=ticker.source,
        )
        title, body = _told(alert, ticker)
        payload = alert_payload(alert)
        notify(
            user=alert.user,
            event=f"{EVENT_TYPE}.price_alert_fired",
            context={
                "title": title,
                "body": body,
                "link": reverse("trading:alerts"),
                "alert_id": alert.pk,
                **{k: v for k, v in payload.items() if k != "id"},
            },
        )
        broadcast_on_commit(user_group(alert.user_id), "alert.fired", payload)
    return True


def _told(alert: PriceAlert, ticker: Ticker) -> tuple[str, str]:
    """The notification's title and body: what happened, the alert as set, and where the price came from."""
    price, change = plain(ticker.last), plain(ticker.change_24h_pct)
    signed = f"+{change}" if ticker.change_24h_pct > 0 else change
    if alert.kind == AlertKind.ABOVE:
        title = f"{alert.symbol} at {price}"
        what = f"{alert.symbol} reached {price}"
    elif alert.kind == AlertKind.BELOW:
        title = f"{alert.symbol} at {price}"
        what = f"{alert.symbol} fell to {price}"
    else:
        title = f"{alert.symbol} {signed}% in 24 h"
        what = f"{alert.symbol} moved {signed}% over 24 hours, now at {price}"
    body = f"{what}. Your alert: {alert.condition_text}. Price from {ticker.source_label or ticker.source}."
    if alert.note:
        body += f" Your note: {alert.note}"
    return title, body


def alerts_cancel_all(*, actor: Actor, user: Any) -> int:
    """Every active alert of `user` cancelled at once (the account is being deleted)."""
    with transaction.atomic():
        cancelled = (
            PriceAlert.objects.visible_to(user)
            .active()
            .update(status=AlertStatus.CANCELLED, cancelled_at=timezone.now())
        )
        if cancelled:
            audit_record("alert.cancelled", actor=actor, user=user, count=cancelled, reason="account deleted")
    return cancelled
