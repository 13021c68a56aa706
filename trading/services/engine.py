"""The paper matching engine, and the triggers of orders held here for exchange accounts.

`fill` is the one function that writes a fill, for the paper engine and for the exchange sync
alike: in one transaction it cancels an OCO sibling (giving back its reservation), releases this
order's reservation (all of it once the order is complete), writes the Fill, the `trade` entries of
both assets and the `fee` entry, moves the base balance's average cost or realises PnL on a sale,
and updates the order's totals and status. Average cost: a purchase adds its cost (quote paid plus
a fee paid in quote) to what is held; a sale realises its proceeds net of a fee paid in quote minus
`cost_basis` x quantity and leaves the average unchanged.

`evaluate_tick` runs on every price tick (the `price_tick` receiver). One query reads the open
orders of the tick's symbols that the tick can reach (on the partial index of open orders); each
is then processed in its own transaction, its rows locked (the order and its OCO sibling in id
order, then the balances in asset order, as every writer locks them), its status read again under
the lock and changed with a conditional UPDATE, so two ticks (or a tick and a cancel) never fill
an order twice. One order failing is logged and the others go on.

Paper orders fill here: limits (and OCO limit legs, and stop-limits once triggered) at their price
as makers when the last price reaches it; stop-loss, take-profit, trailing stops and market-type
OCO stop legs at the last price with PAPER_SLIPPAGE_BPS against the taker, paying the taker fee.
Orders of exchange accounts held here (EMULATED) are only marked triggered; the Celery task
`trading.submit_triggered_order` sends them to the exchange after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cryptovault.errors import DomainError
from trading.errors import InsufficientFunds
from trading.markets import MarketRules, market_rules
from trading.models import (
    Balance,
    EntryKind,
    Execution,
    Fill,
    OcoLeg,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
)
from trading.prices import counts_now
from trading.services.ledger import WIDE, lock_balances, money, plain_amount, post_entry, release
from trading.services.orders import (
    _close_without_fill,
    _lock_group,
    order_events_on_commit,
    reject_in_transaction,
    slippage,
)

if TYPE_CHECKING:
    from exchanges.market.feed import Ticker

logger = logging.getLogger(__name__)

# The same list (and order) as the partial index `order_open_idx`, so PostgreSQL can use it.
OPEN_LIST = ["pending", "open", "partially_filled"]


class OrderNotFillable(DomainError):
    status_code = 409
    code = "order_not_fillable"
    default_message = "This order is not open any more: it cannot fill."


# --- the one fill writer ----------------------------------------------------------------------------------
def fill(
    *,
    order: Order,
    price: Decimal,
    quantity: Decimal | None = None,
    is_maker: bool,
    fee_rate: Decimal,
    exchange_trade_id: str = "",
    fee: Decimal | None = None,
    fee_asset: str | None = None,
    complete: bool | None = None,
) -> Fill:
    """Fill `quantity` (default: what remains) of `order` at `price`; see the module's docstring.

    A fee given (an exchange's trade) is used as is, in `fee_asset`; otherwise it is
    quote value x `fee_rate`, in the quote asset. An exchange trade already recorded (same
    `exchange_trade_id`) is returned as it is, so a sync can replay trades safely.

    `complete` says whether this fill completes the order. By default it does when the order's
    quantity is reached, or at once for an order by quote amount (a paper one fills in one go). An
    exchange's trades pass what the exchange says instead (`trading.services.live`): one market
    order by quote amount can trade several times, and only the exchange knows which trade is last.
    """
    if exchange_trade_id:
        known = Fill.objects.filter(account_id=order.account_id, exchange_trade_id=exchange_trade_id).first()
        if known is not None:
            return known
    with transaction.atomic():
        legs = _lock_group(order)
        current = next(leg for leg in legs if leg.pk == order.pk)
        if not current.is_open:
            raise OrderNotFillable()
        account = current.account
        if quantity is None:
            if current.quantity is None:
                raise ValueError("An order by quote amount fills with an explicit quantity.")
            quantity = current.quantity - current.filled_quantity
        qty, price = money(quantity), money(price)
        if qty <= 0 or price <= 0:
            raise ValueError("A fill has a positive quantity and price.")
        with localcontext(WIDE):
            quote_qty = money(price * qty)
            fee_value = money(fee) if fee is not None else money(quote_qty * fee_rate, ROUND_HALF_UP)
        fee_in = fee_asset or current.quote_asset

        # Every balance this fill touches, the OCO sibling's reserved asset included, locked in ONE call
        # (asset order) before anything is released: locking one here and the rest later would
        # deadlock with a placement locking them in asset order.
        assets = {current.base_asset, current.quote_asset, fee_in, current.reserved_asset}
        balances = lock_balances(account, assets | {leg.reserved_asset for leg in legs})
        # An OCO: the other leg is cancelled first, so its reservation is free for this fill.
        siblings_closed = False
        for leg in legs:
            if leg.pk != current.pk and _close_without_fill(
                leg, status=OrderStatus.CANCELLED, reason="The other leg of the OCO filled."
            ):
                siblings_closed = True
                order_events_on_commit(leg, "order.cancelled")
        if siblings_closed:  # read again (rows locked already): the release changed them
            balances = lock_balances(account, assets)
        if complete is None:
            complete = current.quantity is None or current.filled_quantity + qty >= current.quantity
        freed = _reservation_freed(current, qty, complete)
        if freed and current.reserved_asset:
            release(balance=balances[current.reserved_asset], amount=freed)

        the_fill = Fill.objects.create(
            order=current,
            account=account,
            price=price,
            quantity=qty,
            quote_quantity=quote_qty,
            fee=fee_value,
            fee_asset=fee_in,
            is_maker=is_maker,
            exchange_trade_id=exchange_trade_id,
        )
        base, quote = balances[current.base_asset], balances[current.quote_asset]
        if current.side == OrderSide.BUY:
            _move_cost_basis_on_buy(base, qty, quote_qty, fee_value, fee_in, current.quote_asset)
            base_amount, quote_amount = qty, -quote_qty
        else:
            _realise_on_sell(base, qty, quote_qty, fee_value, fee_in, current.quote_asset)
            base_amount, quote_amount = -qty, quote_qty
        note = _note(current, qty, price)
        for balance, amount in ((base, base_amount), (quote, quote_amount)):  # the base leg first, as always
            post_entry(balance=balance, kind=EntryKind.TRADE, amount=amount, order=current, fill=the_fill, note=note)
        if fee_value > 0:
            post_entry(
                balance=balances[fee_in],
                kind=EntryKind.FEE,
                amount=-fee_value,
                order=current,
                fill=the_fill,
                note=f"{'Maker' if is_maker else 'Taker'} fee of order {current.pk}",
            )
        _record_totals(current, qty, quote_qty, fee_value, fee_in, freed, complete)
        order.__dict__.update({k: v for k, v in current.__dict__.items() if not k.startswith("_")})
        order_events_on_commit(current, "order.filled")
    return the_fill


def _note(order: Order, qty: Decimal, price: Decimal) -> str:
    return (
        f"{order.get_side_display()} {plain_amount(qty)} {order.base_asset} at {plain_amount(price)} (order {order.pk})"
    )


def _reservation_freed(order: Order, qty: Decimal, complete: bool) -> Decimal:
    """The part of the reservation this fill frees: all of it once complete, else its share."""
    reserved = order.reserved_amount
    if complete or reserved <= 0:
        return reserved
    if order.side == OrderSide.SELL:
        return min(qty, reserved)
    remaining = (order.quantity or Decimal(0)) - order.filled_quantity
    if remaining <= 0:
        return reserved
    with localcontext(WIDE):
        return min(reserved, money(reserved * qty / remaining, ROUND_DOWN))


def _move_cost_basis_on_buy(
    base: Balance, qty: Decimal, quote_qty: Decimal, fee: Decimal, fee_asset: str, quote_asset: str
) -> None:
    with localcontext(WIDE):
        acquired = qty - (fee if fee_asset == base.asset else 0)
        cost = quote_qty + (fee if fee_asset == quote_asset else 0)
        held = base.total
        if held + acquired > 0:
            base.cost_basis = money((held * base.cost_basis + cost) / (held + acquired))
    base.save(update_fields=["cost_basis", "updated_at"])


def cost_basis_on_deposit(balance: Balance, amount: Decimal, price: Decimal | None) -> None:
    """Units arriving other than by a trade (a deposit, a synced exchange balance) cost their market
    value on arrival, the usual tax convention; without a price the average is left as it was.
    Call before posting the entry, while `balance.total` is still the amount held before."""
    if amount <= 0 or price is None:
        return
    _move_cost_basis_on_buy(balance, amount, amount * price, Decimal(0), "", "")


def _realise_on_sell(
    base: Balance, qty: Decimal, quote_qty: Decimal, fee: Decimal, fee_asset: str, quote_asset: str
) -> None:
    with localcontext(WIDE):
        proceeds = quote_qty - (fee if fee_asset == quote_asset else 0)
        base.realized_pnl = money(base.realized_pnl + proceeds - base.cost_basis * qty)
    base.save(update_fields=["realized_pnl", "updated_at"])


def _record_totals(
    order: Order, qty: Decimal, quote_qty: Decimal, fee: Decimal, fee_asset: str, freed: Decimal, complete: bool
) -> None:
    """The order's totals and status, by a conditional UPDATE: a second writer would match nothing."""
    now = timezone.now()
    with localcontext(WIDE):
        filled = order.filled_quantity + qty
        filled_quote = order.filled_quote + quote_qty
        changes = {
            "filled_quantity": filled,
            "filled_quote": filled_quote,
            "average_price": money(filled_quote / filled),
            # The first fill's fee asset is the order's; a fee in another asset (BNB) is in the ledger only.
            "fee_total": order.fee_total + fee if fee_asset == (order.fee_asset or fee_asset) else order.fee_total,
            "fee_asset": order.fee_asset or fee_asset,
            "reserved_amount": order.reserved_amount - freed,
            "status": OrderStatus.FILLED if complete else OrderStatus.PARTIALLY_FILLED,
            "closed_at": now if complete else None,
            "updated_at": now,
        }
    updated = Order.objects.filter(pk=order.pk, status__in=OPEN_LIST, filled_quantity=order.filled_quantity).update(
        **changes
    )
    if updated != 1:
        raise OrderNotFillable()
    for name, value in changes.items():
        setattr(order, name, value)


# --- evaluating a tick -----------------------------------------------------------------------------------
LIMIT, MARKET, TRIGGER_LIMIT, TRAIL = "limit", "market", "trigger_limit", "trail"


def _limit_like() -> Q:
    return (
        Q(type=OrderType.LIMIT)
        | Q(type=OrderType.OCO, oco_leg=OcoLeg.LIMIT)
        | Q(type=OrderType.STOP_LIMIT, triggered_at__isnull=False)
        | Q(type=OrderType.OCO, oco_leg=OcoLeg.STOP, triggered_at__isnull=False, price__isnull=False)
    )


def _reached_on(ticker: Ticker) -> Q:
    """The open orders of this symbol the tick can move, as SQL (`_decide` has the last word)."""
    last = ticker.last
    stop_like = Q(type__in=[OrderType.STOP_LOSS, OrderType.STOP_LIMIT], triggered_at__isnull=True) | Q(
        type=OrderType.OCO, oco_leg=OcoLeg.STOP, triggered_at__isnull=True
    )
    return Q(symbol=ticker.symbol) & (
        Q(type=OrderType.TRAILING_STOP)
        | (_limit_like() & (Q(side=OrderSide.BUY, price__gte=last) | Q(side=OrderSide.SELL, price__lte=last)))
        | (stop_like & (Q(side=OrderSide.SELL, stop_price__gte=last) | Q(side=OrderSide.BUY, stop_price__lte=last)))
        | (
            Q(type=OrderType.TAKE_PROFIT)
            & (Q(side=OrderSide.SELL, stop_price__lte=last) | Q(side=OrderSide.BUY, stop_price__gte=last))
        )
    )


def _is_limit_like(order: Order) -> bool:
    if order.type == OrderType.LIMIT or (order.type == OrderType.OCO and order.oco_leg == OcoLeg.LIMIT):
        return True
    return (
        order.type in (OrderType.STOP_LIMIT, OrderType.OCO)
        and order.triggered_at is not None
        and order.price is not None
    )


def trail_reference(order: Order, last: Decimal) -> Decimal:
    """A trailing stop's best price so far: the highest for a sale, the lowest for a purchase."""
    seen = order.trail_reference if order.trail_reference is not None else last
    return min(seen, last) if order.side == OrderSide.BUY else max(seen, last)


def trailing_trigger(order: Order, reference: Decimal) -> Decimal:
    """The price at which a trailing stop with this reference triggers."""
    buy = order.side == OrderSide.BUY
    with localcontext(WIDE):
        if order.trailing_percent is not None:
            factor = order.trailing_percent / 100
            return reference * (1 + factor) if buy else reference * (1 - factor)
        amount = order.trailing_amount or Decimal(0)
        return reference + amount if buy else reference - amount


def _decide(order: Order, last: Decimal) -> str | None:
    """What this tick does to `order`: fill as a limit, fill at market, trigger a stop-limit, move a trail."""
    buy = order.side == OrderSide.BUY
    if order.type == OrderType.TRAILING_STOP:
        reference = trail_reference(order, last)
        threshold = trailing_trigger(order, reference)
        if (last >= threshold) if buy else (last <= threshold):
            return MARKET
        return TRAIL if reference != order.trail_reference else None
    if _is_limit_like(order):
        assert order.price is not None
        return LIMIT if ((last <= order.price) if buy else (last >= order.price)) else None
    stop = order.stop_price
    if stop is None:
        return None
    if order.type == OrderType.TAKE_PROFIT:
        return MARKET if ((last <= stop) if buy else (last >= stop)) else None
    if order.type in (OrderType.STOP_LOSS, OrderType.STOP_LIMIT) or order.oco_leg == OcoLeg.STOP:
        if not ((last >= stop) if buy else (last <= stop)):
            return None
        return TRIGGER_LIMIT if order.price is not None else MARKET
    return None


def tick_candidates(tickers: Iterable[Ticker]) -> QuerySet[Order]:
    """The open orders (paper and emulated) these tickers can move, oldest first: one query on the
    partial index of open orders, whatever the number of orders they cannot reach."""
    tickers = list(tickers)
    reach = Q()
    for ticker in tickers:
        reach |= _reached_on(ticker)
    return (
        Order.objects.filter(
            symbol__in=[ticker.symbol for ticker in tickers],
            execution__in=[Execution.PAPER, Execution.EMULATED],
            status__in=OPEN_LIST,
        )
        .filter(reach)
        .only(*_DECISION_FIELDS)
        .order_by("created_at", "id")
    )


_DECISION_FIELDS = (
    "id",
    "oco_group",
    "symbol",
    "side",
    "type",
    "oco_leg",
    "price",
    "stop_price",
    "trailing_percent",
    "trailing_amount",
    "trail_reference",
    "triggered_at",
    "execution",
    "status",
)


def evaluate_tick(*, tickers: Iterable[Ticker]) -> list[Order]:
    """Fill (paper) or trigger (emulated) every open order this tick reaches; returns those orders."""
    latest = {ticker.symbol: ticker for ticker in tickers if counts_now(ticker)}
    if not latest:
        return []
    candidates = list(tick_candidates(latest.values()))
    rules: dict[tuple[int | None, str], MarketRules] = {}
    done: list[Order] = []
    for candidate in candidates:
        if candidate.execution == Execution.EMULATED and candidate.triggered_at is not None:
            continue  # handed to the exchange already (the task, then the sync, take it from here)
        action = _decide(candidate, latest[candidate.symbol].last)
        if action is None:
            continue
        try:
            if action == TRAIL:
                _move_trail(candidate, latest[candidate.symbol].last)
                continue
            result = _process(candidate, latest[candidate.symbol], rules)
        except Exception:
            logger.exception("Order %s could not be evaluated on this tick; the next tick tries again.", candidate.pk)
            continue
        if result is not None:
            done.append(result)
    return done


def _move_trail(order: Order, last: Decimal) -> None:
    """A better price for a trailing stop: a conditional UPDATE (only if still better, still open)."""
    reference = trail_reference(order, last)
    better = Q(trail_reference__gt=reference) if order.side == OrderSide.BUY else Q(trail_reference__lt=reference)
    Order.objects.filter(better | Q(trail_reference__isnull=True), pk=order.pk, status__in=OPEN_LIST).update(
        trail_reference=reference
    )


def _rules(rules: dict[tuple[int | None, str], MarketRules], order: Order) -> MarketRules:
    key = (order.account.connection_id, order.symbol)
    if key not in rules:
        rules[key] = market_rules(order.account, order.symbol)
    return rules[key]


def _process(candidate: Order, ticker: Ticker, rules: dict[tuple[int | None, str], MarketRules]) -> Order | None:
    """One order against one tick, in its own transaction, under the row locks of its OCO group.

    The whole group is locked, in id order, as `fill` and a cancel lock it: locking this leg alone
    first would deadlock with a cancel of the other leg.
    """
    last = ticker.last
    with transaction.atomic():
        legs = _lock_group(candidate)
        order = next((leg for leg in legs if leg.pk == candidate.pk), None)
        if order is None or not order.is_open:
            return None
        action = _decide(order, last)
        if action is None:
            return None
        if order.type == OrderType.TRAILING_STOP:
            order.trail_reference = trail_reference(order, last)
            order.save(update_fields=["trail_reference", "updated_at"])
            if action == TRAIL:
                return None
        if order.execution == Execution.EMULATED:
            return _trigger_emulated(order)
        market_rules_ = _rules(rules, order)
        buy = order.side == OrderSide.BUY
        if action == TRIGGER_LIMIT:
            order.triggered_at, order.status = timezone.now(), OrderStatus.OPEN
            order.save(update_fields=["triggered_at", "status", "updated_at"])
            assert order.price is not None
            if not ((last <= order.price) if buy else (last >= order.price)):
                return order  # triggered: it rests as a limit from now on
            return _fill_or_reject(order, price=last, is_maker=False, fee_rate=market_rules_.taker_fee)
        if action == LIMIT:
            assert order.price is not None
            return _fill_or_reject(order, price=order.price, is_maker=True, fee_rate=market_rules_.maker_fee)
        if order.triggered_at is None:
            order.triggered_at = timezone.now()
            order.save(update_fields=["triggered_at", "updated_at"])
        with localcontext(WIDE):
            price = money(last * (1 + slippage()) if buy else last * (1 - slippage()))
        return _fill_or_reject(order, price=price, is_maker=False, fee_rate=market_rules_.taker_fee)


def _fill_or_reject(order: Order, *, price: Decimal, is_maker: bool, fee_rate: Decimal) -> Order:
    """Fill; a triggered purchase that now costs more than the account has is rejected, with the numbers."""
    try:
        fill(order=order, price=price, is_maker=is_maker, fee_rate=fee_rate)
    except InsufficientFunds as error:
        reject_in_transaction(
            order,
            reason=f"Triggered at {plain_amount(price)}, but {error.message[0].lower()}{error.message[1:]}",
            reject_code="insufficient_funds",
        )
    return order


def _trigger_emulated(order: Order) -> Order | None:
    """An exchange account's order held here reached its trigger: mark it, and send it after commit.

    The caller holds the OCO group's row locks. An OCO leg fires even when the other leg fired
    before and rests at the exchange (a take-profit limit the price touched, then fell away from):
    `trading.services.live.live_submit` cancels that leg at the exchange before it sends this one,
    as the exchange's own OCO would, so one leg at most is ever live there and the stop still
    protects the trader. If the other leg filled meanwhile, its fill cancels this one and nothing is sent.
    """
    changed = Order.objects.filter(pk=order.pk, status__in=OPEN_LIST, triggered_at__isnull=True).update(
        triggered_at=timezone.now(), updated_at=timezone.now()
    )
    if not changed:
        return None
    order.refresh_from_db()
    order_id = order.pk

    def enqueue() -> None:
        from trading.tasks import submit_triggered_order

        try:
            submit_triggered_order.delay(order_id)
        except Exception:
            logger.exception("Triggered order %s could not be queued for the exchange; the sync retries it", order_id)

    transaction.on_commit(enqueue)
    return order
