"""Placing and cancelling orders: the one place an order's rules live.

`order_place` checks the request (a followed market, the fields its type needs and no others,
amounts greater than zero with no more decimals than the market allows, the market's minimums,
the OCO prices on the right sides of the last price), then, in one transaction: the per-user cap
on open orders, the reservation of what the order may spend (`InsufficientFunds` with the
numbers), the order row(s) and the audit record. A paper market order, and a paper limit order
that is marketable, fill in that same transaction (`trading.services.engine.fill`). An order on an
exchange account of a type the exchange runs natively is committed first (pending) and only then
sent through ccxt (`trading.services.live.live_submit`), so a crash in between never loses it.

Idempotency: every order has a `client_order_id` (the caller's, or "cv-" + 24 hex characters) and
the SHA-256 fingerprint of the normalised request. The same id with the same request returns the
existing order (`created=False`, no write); with a different request it is a
`ClientOrderIdConflict` (409). Two identical requests racing are settled by the unique constraint
on (user, client_order_id): the loser re-reads the winner's order.

Events (`order.placed`, `.filled`, `.cancelled`, `.rejected`, `.expired`) go to the owner's
/ws/events group and notifications (type "orders") after commit, all with `order_payload`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.notify import notify
from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from cryptovault.events import broadcast_on_commit, user_group
from exchanges.market.symbols import parse_symbol
from security.audit import audit_record
from security.ip_allowlist import protected_action
from trading.errors import AccountInactive, ClientOrderIdConflict, OrderNotCancellable
from trading.markets import MarketRules, market_rules
from trading.models import (
    OPEN_STATUSES,
    Execution,
    OcoLeg,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradingAccount,
)
from trading.models.orders import execution_for
from trading.prices import current_ticker
from trading.services.ledger import WIDE, lock_balances, money, plain_amount, release, reserve

logger = logging.getLogger(__name__)

EVENT_TYPE = "orders"
CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
MAX_DECIMALS = 18  # what the database stores
MAX_AMOUNT = Decimal(10) ** 15
MAX_TRAILING_PERCENT = Decimal(50)
STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})
DECIMAL_FIELDS = (
    "quantity",
    "quote_amount",
    "price",
    "stop_price",
    "stop_limit_price",
    "trailing_percent",
    "trailing_amount",
)

# What each type takes: required fields, optional fields (anything else given is refused).
_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    OrderType.MARKET: (frozenset(), frozenset({"quantity", "quote_amount"})),
    OrderType.LIMIT: (frozenset({"quantity", "price"}), frozenset()),
    OrderType.STOP_LOSS: (frozenset({"quantity", "stop_price"}), frozenset()),
    OrderType.TAKE_PROFIT: (frozenset({"quantity", "stop_price"}), frozenset()),
    OrderType.STOP_LIMIT: (frozenset({"quantity", "stop_price", "price"}), frozenset()),
    OrderType.TRAILING_STOP: (frozenset({"quantity"}), frozenset({"trailing_percent", "trailing_amount"})),
    OrderType.OCO: (frozenset({"quantity", "price", "stop_price"}), frozenset({"stop_limit_price"})),
}


@dataclass(frozen=True)
class PlaceResult:
    order: Order  # an OCO: the limit leg (order.oco_group links the stop leg)
    created: bool  # False: this client_order_id was placed before with the same request


class OpenOrderLimitReached(DomainError):
    status_code = 409
    code = "open_order_limit_reached"

    def __init__(self, limit: int):
        super().__init__(f"You have {limit} open orders, the most we keep per account. Cancel one first.")


def slippage() -> Decimal:
    return Decimal(settings.PAPER_SLIPPAGE_BPS) / Decimal(10_000)


# --- payload and events ---------------------------------------------------------------------------------
def _s(value: Decimal | None) -> str | None:
    return None if value is None else plain_amount(value)


def order_payload(order: Order) -> dict[str, Any]:
    """The one shape an order is told in (events, notifications): decimals as strings."""
    return {
        "id": order.pk,
        "client_order_id": order.client_order_id,
        "account_id": order.account_id,
        "symbol": order.symbol,
        "side": order.side,
        "type": order.type,
        "oco_leg": order.oco_leg,
        "oco_group": str(order.oco_group) if order.oco_group else None,
        "time_in_force": order.time_in_force,
        "status": order.status,
        "execution": order.execution,
        "quantity": _s(order.quantity),
        "quote_amount": _s(order.quote_amount),
        "price": _s(order.price),
        "stop_price": _s(order.stop_price),
        "trailing_percent": _s(order.trailing_percent),
        "trailing_amount": _s(order.trailing_amount),
        "trail_reference": _s(order.trail_reference),
        "filled_quantity": _s(order.filled_quantity),
        "filled_quote": _s(order.filled_quote),
        "average_price": _s(order.average_price),
        "fee_total": _s(order.fee_total),
        "fee_asset": order.fee_asset,
        "reserved_asset": order.reserved_asset,
        "reserved_amount": _s(order.reserved_amount),
        "exchange_order_id": order.exchange_order_id,
        "reject_code": order.reject_code,
        "reject_reason": order.reject_reason,
        "triggered_at": order.triggered_at.isoformat() if order.triggered_at else None,
        "created_at": order.created_at.isoformat() if order.created_at else None,
        "closed_at": order.closed_at.isoformat() if order.closed_at else None,
    }


_TOLD = {
    "order.placed": "placed",
    "order.filled": "filled",
    "order.cancelled": "cancelled",
    "order.rejected": "rejected",
    "order.expired": "expired",
}


def _describe(order: Order) -> str:
    amount = (
        f"{plain_amount(order.quantity)} {order.base_asset}"
        if order.quantity is not None
        else f"{plain_amount(order.quote_amount or Decimal(0))} {order.quote_asset} of {order.base_asset}"
    )
    return f"{order.get_side_display()} {amount} ({order.get_type_display()})"


def order_events_on_commit(order: Order, event: str) -> None:
    """`event` to the owner's open pages and their notifications, once the transaction commits."""
    payload = order_payload(order)
    broadcast_on_commit(user_group(order.user_id), event, payload)
    word = _TOLD.get(event, event.removeprefix("order."))
    body = f"{_describe(order)} on {order.symbol}: {word}."
    if event == "order.filled" and order.average_price is not None:
        body = (
            f"{_describe(order)} on {order.symbol}: {order.get_status_display().lower()} "
            f"at an average of {plain_amount(order.average_price)} {order.quote_asset}."
        )
    elif event == "order.rejected" and order.reject_reason:
        body += f" {order.reject_reason}"
    notify(
        user=order.user,
        event=f"{EVENT_TYPE}.{event.removeprefix('order.')}",
        context={
            "title": f"Order {word}: {order.symbol}",
            "body": body,
            "link": reverse("trading:order_detail", args=[order.pk]),
            "order_id": order.pk,
            **{k: v for k, v in payload.items() if k != "id"},
        },
    )


# --- parsing the request ----------------------------------------------------------------------------------
def _decimal(field: str, value: Any, errors: dict[str, str]) -> Decimal | None:
    """A positive, finite decimal of at most 18 places, or None with the reason in `errors`."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[field] = "Enter a number."
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = "Enter a number."
        return None
    if not number.is_finite():
        errors[field] = "Enter a number."
    elif number <= 0:
        errors[field] = "Enter a number greater than 0."
    elif number > MAX_AMOUNT:
        errors[field] = f"Enter at most {MAX_AMOUNT:,f}."
    elif -number.as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]
        errors[field] = f"Use at most {MAX_DECIMALS} decimal places."
    else:
        return number
    return None


@dataclass
class _Request:
    account: TradingAccount
    symbol: str
    side: str
    type: str
    time_in_force: str
    client_order_id: str
    values: dict[str, Decimal | None]

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]

    def get(self, name: str) -> Decimal | None:
        return self.values.get(name)

    def fingerprint(self) -> str:
        parts = [
            str(self.account.pk),
            self.symbol,
            self.side,
            self.type,
            self.time_in_force,
            *(plain_amount(v) if (v := self.values.get(name)) is not None else "" for name in DECIMAL_FIELDS),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _parse(
    *,
    account: TradingAccount,
    symbol: str,
    side: str,
    type: str,
    time_in_force: str,
    client_order_id: str | None,
    raw: dict,
) -> _Request:
    errors: dict[str, str] = {}
    parsed_symbol = parse_symbol(symbol)  # UnknownSymbol: 400 on `symbol`
    if side not in OrderSide.values:
        errors["side"] = "Choose buy or sell."
    if type not in OrderType.values:
        errors["type"] = f"Choose one of: {', '.join(OrderType.values)}."
    tif = time_in_force or TimeInForce.GTC
    if tif not in TimeInForce.values:
        errors["time_in_force"] = "Choose gtc or ioc."
    elif tif == TimeInForce.IOC and type not in (OrderType.MARKET, OrderType.LIMIT):
        errors["time_in_force"] = "Immediate-or-cancel applies to market and limit orders only."
    if client_order_id in (None, ""):
        client_order_id = "cv-" + uuid.uuid4().hex[:24]
    elif not isinstance(client_order_id, str) or not CLIENT_ORDER_ID.match(client_order_id):
        errors["client_order_id"] = "Use 1 to 36 characters: letters, digits, - and _."
    values = {name: _decimal(name, raw.get(name), errors) for name in DECIMAL_FIELDS}
    if type in _FIELDS:
        required, optional = _FIELDS[type]
        label = OrderType(type).label
        for name in sorted(required):
            if values[name] is None and name not in errors:
                errors[name] = f"A {label.lower()} order needs a {name.replace('_', ' ')}."
        for name in DECIMAL_FIELDS:
            if raw.get(name) not in (None, "") and name not in required | optional and name not in errors:
                errors[name] = f"A {label.lower()} order takes no {name.replace('_', ' ')}."
        market_amounts = type == OrderType.MARKET and not {"quantity", "quote_amount"} & errors.keys()
        if market_amounts and (values["quantity"] is None) == (values["quote_amount"] is None):
            errors["quantity"] = "Give either a quantity (base) or a quote amount, not both."
        if type == OrderType.TRAILING_STOP and not {"trailing_percent", "trailing_amount"} & errors.keys():
            if (values["trailing_percent"] is None) == (values["trailing_amount"] is None):
                errors["trailing_percent"] = "Give either a trailing percent or a trailing amount, not both."
            elif (pct := values["trailing_percent"]) is not None:
                if pct >= MAX_TRAILING_PERCENT:
                    errors["trailing_percent"] = f"A trailing percent is below {MAX_TRAILING_PERCENT}."
                elif -pct.as_tuple().exponent > 4:  # type: ignore[operator]
                    errors["trailing_percent"] = "Use at most 4 decimal places."
    if errors:
        raise ValidationError(errors)
    return _Request(
        account=account,
        symbol=parsed_symbol,
        side=side,
        type=type,
        time_in_force=tif,
        client_order_id=str(client_order_id),
        values=values,
    )


def _check_rules(request: _Request, rules: MarketRules, last: Decimal) -> None:
    """The market's limits, each refusal naming the limit (nothing is rounded to fit)."""
    errors: dict[str, str] = {}
    quantity = request.get("quantity")
    if quantity is not None and (problem := rules.quantity_error(quantity)):
        errors["quantity"] = problem
    for name in ("price", "stop_price", "stop_limit_price", "trailing_amount"):
        value = request.get(name)
        if value is not None and (problem := rules.price_error(value)):
            errors[name] = problem
    if errors:
        raise ValidationError(errors)
    if quantity is not None:
        reference = request.get("price") or request.get("stop_price") or last
        with localcontext(WIDE):
            notional = quantity * reference
        if problem := rules.notional_error(notional):
            errors["quantity"] = problem
    elif (quote_amount := request.get("quote_amount")) is not None and (problem := rules.notional_error(quote_amount)):
        errors["quote_amount"] = problem
    if request.type == OrderType.OCO:
        price, stop = request.get("price"), request.get("stop_price")
        assert price is not None and stop is not None
        last_text = plain_amount(last)
        if request.side == OrderSide.SELL:
            if price <= last:
                errors["price"] = f"A sell OCO's limit price is above the last price ({last_text})."
            if stop >= last:
                errors["stop_price"] = f"A sell OCO's stop price is below the last price ({last_text})."
        else:
            if price >= last:
                errors["price"] = f"A buy OCO's limit price is below the last price ({last_text})."
            if stop <= last:
                errors["stop_price"] = f"A buy OCO's stop price is above the last price ({last_text})."
    if errors:
        raise ValidationError(errors)


def _market_quantity(request: _Request, rules: MarketRules, fill_price: Decimal) -> Decimal:
    """A market order by quote amount: the most base quantity that amount buys (or sells), in steps."""
    quote_amount = request.get("quote_amount")
    assert quote_amount is not None
    with localcontext(WIDE):
        divisor = fill_price * (1 + rules.taker_fee) if request.side == OrderSide.BUY else fill_price
        raw = quote_amount / divisor
        quantity = (raw / rules.qty_step).to_integral_value(rounding=ROUND_DOWN) * rules.qty_step
    if problem := rules.quantity_error(quantity):
        raise ValidationError(
            {"quote_amount": f"{plain_amount(quote_amount)} {request.quote} is too little: {problem}"}
        )
    return money(quantity)


def _reservation(request: _Request, rules: MarketRules, quantity: Decimal, last: Decimal) -> tuple[str, Decimal]:
    """(asset, amount) an order locks: a sale its base quantity, a purchase the quote it may spend."""
    if request.side == OrderSide.SELL:
        return request.base, quantity
    taker = 1 + rules.taker_fee
    with localcontext(WIDE):
        if request.type == OrderType.OCO:
            stop_leg = request.get("stop_limit_price") or request.get("stop_price")
            reference = max(request.get("price") or Decimal(0), stop_leg or Decimal(0))
        elif request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            reference = request.get("price") or last
        elif request.type in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
            reference = request.get("stop_price") or last
        else:  # market, trailing stop: the price now, as a market order would pay it
            reference = last * (1 + slippage())
        amount = quantity * reference * taker
    return request.quote, money(amount, ROUND_UP)


def _existing(user_id: int, request: _Request) -> PlaceResult | None:
    order = Order.objects.filter(user_id=user_id, client_order_id=request.client_order_id).first()
    if order is None:
        return None
    if order.request_fingerprint != request.fingerprint():
        raise ClientOrderIdConflict()
    return PlaceResult(order=order, created=False)


# --- placing ---------------------------------------------------------------------------------------------
@protected_action("order.place")  # OCO too: it is an order type
def order_place(
    *,
    actor: Actor,
    account: TradingAccount,
    symbol: str,
    side: str,
    type: str,
    quantity: Decimal | str | None = None,
    quote_amount: Decimal | str | None = None,
    price: Decimal | str | None = None,
    stop_price: Decimal | str | None = None,
    stop_limit_price: Decimal | str | None = None,
    trailing_percent: Decimal | str | None = None,
    trailing_amount: Decimal | str | None = None,
    time_in_force: str = "gtc",
    client_order_id: str | None = None,
) -> PlaceResult:
    """Place an order on `account` (see the module's docstring); the same client_order_id returns the same order."""
    request = _parse(
        account=account,
        symbol=symbol,
        side=side,
        type=type,
        time_in_force=time_in_force,
        client_order_id=client_order_id,
        raw={
            "quantity": quantity,
            "quote_amount": quote_amount,
            "price": price,
            "stop_price": stop_price,
            "stop_limit_price": stop_limit_price,
            "trailing_percent": trailing_percent,
            "trailing_amount": trailing_amount,
        },
    )
    if (found := _existing(account.user_id, request)) is not None:
        return found
    if not account.is_active:
        raise AccountInactive()
    rules = market_rules(account, request.symbol)
    ticker = current_ticker(request.symbol)
    _check_rules(request, rules, ticker.last)
    try:
        with transaction.atomic():
            order, _filled_now = _place_in_transaction(actor, request, rules, ticker.last)
    except IntegrityError:
        # The same client_order_id was placed by a concurrent call: theirs is the answer (or a 409).
        found = _existing(account.user_id, request)
        if found is None:
            raise
        return found
    if order.execution == Execution.NATIVE:
        from trading.services.live import live_submit

        order = live_submit(order=order, actor=actor)
    return PlaceResult(order=order, created=True)


def _place_in_transaction(actor: Actor, request: _Request, rules: MarketRules, last: Decimal) -> tuple[Order, bool]:
    from trading.services.engine import fill

    account = request.account
    user = User.objects.select_for_update().only("pk").get(pk=account.user_id)  # one placement at a time per user
    legs = 2 if request.type == OrderType.OCO else 1
    if (
        Order.objects.filter(user_id=user.pk, status__in=OPEN_STATUSES).count() + legs
        > settings.MAX_OPEN_ORDERS_PER_USER
    ):
        raise OpenOrderLimitReached(settings.MAX_OPEN_ORDERS_PER_USER)
    account = TradingAccount.objects.select_for_update().get(pk=account.pk)
    if not account.is_active:
        raise AccountInactive()

    execution = execution_for(account, request.type)
    side, slip = request.side, slippage()
    with localcontext(WIDE):
        market_price = money(last * (1 + slip) if side == OrderSide.BUY else last * (1 - slip))
    quantity = request.get("quantity")
    if quantity is None:
        quantity = _market_quantity(request, rules, market_price)
    reserved_asset, reserved = _reservation(request, rules, quantity, last)

    balances = lock_balances(account, [request.base, request.quote])
    field = "quantity" if request.get("quantity") is not None else "quote_amount"
    if execution == Execution.NATIVE:
        # The exchange holds the funds of its own orders (a sync counts them as locked) and is the
        # judge of what it holds: our copy of its balance may be a minute old. It refuses clearly.
        reserved = Decimal(0)
    else:
        reserve(balance=balances[reserved_asset], amount=reserved, field=field)

    common = {
        "user_id": user.pk,
        "account": account,
        "request_fingerprint": request.fingerprint(),
        "symbol": request.symbol,
        "base_asset": request.base,
        "quote_asset": request.quote,
        "side": side,
        "type": request.type,
        "time_in_force": request.time_in_force,
        "execution": execution,
    }
    resting = request.type == OrderType.LIMIT
    order = Order(
        **common,
        client_order_id=request.client_order_id,
        quantity=request.get("quantity"),
        quote_amount=request.get("quote_amount"),
        price=request.get("price"),
        stop_price=request.get("stop_price") if request.type != OrderType.OCO else None,
        trailing_percent=request.get("trailing_percent"),
        trailing_amount=request.get("trailing_amount"),
        trail_reference=last if request.type == OrderType.TRAILING_STOP else None,
        status=OrderStatus.OPEN if resting or request.type == OrderType.OCO else OrderStatus.PENDING,
        oco_leg=OcoLeg.LIMIT if request.type == OrderType.OCO else "",
        oco_group=uuid.uuid4() if request.type == OrderType.OCO else None,
        reserved_asset=reserved_asset,
        reserved_amount=reserved,
    )
    if execution == Execution.NATIVE:
        order.status = OrderStatus.PENDING  # until the exchange answers
    order.save()
    orders = [order]
    if request.type == OrderType.OCO:
        stop_leg = Order(
            **common,
            client_order_id=f"{request.client_order_id}:stop",
            quantity=quantity,
            price=request.get("stop_limit_price"),
            stop_price=request.get("stop_price"),
            status=OrderStatus.PENDING,
            oco_leg=OcoLeg.STOP,
            oco_group=order.oco_group,
            reserved_asset=reserved_asset,
            reserved_amount=Decimal(0),
        )
        stop_leg.save()
        orders.append(stop_leg)
    for placed in orders:
        audit_record(
            "order.placed",
            actor=actor,
            user=account.user,
            order_id=placed.pk,
            account_id=account.pk,
            symbol=placed.symbol,
            side=placed.side,
            type=placed.type,
            oco_leg=placed.oco_leg,
            execution=placed.execution,
            client_order_id=placed.client_order_id,
        )
        order_events_on_commit(placed, "order.placed")

    if execution != Execution.PAPER:
        return order, False
    if request.type == OrderType.MARKET:
        fill(order=order, price=market_price, quantity=quantity, is_maker=False, fee_rate=rules.taker_fee)
        return order, True
    if request.type == OrderType.LIMIT:
        limit = request.get("price")
        assert limit is not None
        marketable = last <= limit if side == OrderSide.BUY else last >= limit
        if marketable:
            fill(order=order, price=last, quantity=quantity, is_maker=False, fee_rate=rules.taker_fee)
            return order, True
        if request.time_in_force == TimeInForce.IOC:
            expire_in_transaction(order, reason="Immediate-or-cancel: the limit price was not reachable at once.")
    return order, False


# --- cancelling ------------------------------------------------------------------------------------------
def _close_without_fill(order: Order, *, status: str, reason: str = "", reject_code: str = "") -> bool:
    """Move a locked, open order to `status` and give back what it still reserves; False if not open."""
    now = timezone.now()
    changes: dict[str, Any] = {"status": status, "reserved_amount": Decimal(0), "closed_at": now, "updated_at": now}
    if reason:
        changes["reject_reason"] = reason[:300]
    if reject_code:
        changes["reject_code"] = reject_code[:64]
    if not Order.objects.filter(pk=order.pk, status__in=OPEN_STATUSES).update(**changes):
        order.refresh_from_db()
        return False
    if order.reserved_amount > 0 and order.reserved_asset:
        balance = lock_balances(order.account, [order.reserved_asset])[order.reserved_asset]
        release(balance=balance, amount=order.reserved_amount)
    for name, value in changes.items():
        setattr(order, name, value)
    return True


def _lock_group(order: Order) -> list[Order]:
    """The order and its OCO sibling, locked in id order (the order every writer locks them in)."""
    query = Order.objects.filter(oco_group=order.oco_group) if order.oco_group else Order.objects.filter(pk=order.pk)
    return list(query.select_for_update(of=("self",)).select_related("account", "user").order_by("id"))


def cancel_in_transaction(order: Order, *, reason: str = "") -> bool:
    """Cancel an open order and its OCO sibling inside the caller's transaction, releasing their
    reservations; False when it is no longer open. No audit or events: the caller says why."""
    legs = _lock_group(order)
    cancelled = False
    for leg in legs:
        done = _close_without_fill(leg, status=OrderStatus.CANCELLED, reason=reason if leg.pk != order.pk else "")
        if leg.pk == order.pk:
            cancelled = done
            order.status, order.reserved_amount, order.closed_at = leg.status, leg.reserved_amount, leg.closed_at
        elif done:
            order_events_on_commit(leg, "order.cancelled")
    return cancelled


def expire_in_transaction(order: Order, *, reason: str) -> bool:
    if _close_without_fill(order, status=OrderStatus.EXPIRED, reason=reason):
        order_events_on_commit(order, "order.expired")
        return True
    return False


def reject_in_transaction(order: Order, *, reason: str, reject_code: str) -> bool:
    """An order that cannot go on (the engine could not pay for a triggered buy, say): rejected, with why."""
    legs = _lock_group(order)
    rejected = False
    for leg in legs:
        if leg.pk == order.pk:
            rejected = _close_without_fill(leg, status=OrderStatus.REJECTED, reason=reason, reject_code=reject_code)
            if rejected:
                order.status, order.reserved_amount = leg.status, leg.reserved_amount
                order.reject_reason, order.reject_code, order.closed_at = (
                    leg.reject_reason,
                    leg.reject_code,
                    leg.closed_at,
                )
                order_events_on_commit(leg, "order.rejected")
        elif _close_without_fill(leg, status=OrderStatus.CANCELLED):
            order_events_on_commit(leg, "order.cancelled")
    return rejected


@protected_action("order.cancel")
def order_cancel(*, actor: Actor, order: Order) -> Order:
    """Cancel an open order (both legs of an OCO); OrderNotCancellable (409) once it is not open."""
    if order.execution != Execution.PAPER and order.is_open:
        # An exchange account's order: at the exchange first if it is (or may be) there; one held
        # here and not yet sent is cancelled here under its row lock (live_cancel decides which).
        from trading.services.live import live_cancel

        order = live_cancel(order=order, actor=actor)
        audit_record(
            "order.cancelled",
            actor=actor,
            user=order.user,
            order_id=order.pk,
            symbol=order.symbol,
            side=order.side,
            type=order.type,
        )
        return order
    with transaction.atomic():
        if not cancel_in_transaction(order):
            raise OrderNotCancellable(
                f"This order is {order.get_status_display().lower()}: only an open order can be cancelled."
            )
        audit_record(
            "order.cancelled",
            actor=actor,
            user=order.user,
            order_id=order.pk,
            symbol=order.symbol,
            side=order.side,
            type=order.type,
        )
        order_events_on_commit(order, "order.cancelled")
    return order


def orders_cancel_all(*, actor: Actor, user: User) -> int:
    """Every open order of `user` cancelled (the account is being deleted); those of exchange accounts
    through `live_cancel`, so whatever was sent (an OCO's stop leg, too) is cancelled at the exchange."""
    count = 0
    groups: set[uuid.UUID] = set()
    for order in Order.objects.visible_to(user).open().order_by("id"):
        if order.oco_group:  # one call per OCO: it cancels both legs, at the exchange the one sent there
            if order.oco_group in groups:
                continue
            groups.add(order.oco_group)
        try:
            if order.execution != Execution.PAPER:
                from trading.services.live import live_cancel

                live_cancel(order=order, actor=actor)
                count += 1
                continue
            with transaction.atomic():
                if cancel_in_transaction(order, reason="account deleted"):
                    order_events_on_commit(order, "order.cancelled")
                    count += 1
        except Exception:
            logger.exception("Order %s could not be cancelled with its account", order.pk)
    if count:
        audit_record("order.cancelled", actor=actor, user=user, count=count, reason="account deleted")
    return count
