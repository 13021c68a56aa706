"""Live routing: the orders of exchange-backed accounts, sent to the exchange through ccxt.

**Which types are the exchange's.** `trading.models.orders.NATIVE_TYPES` (market and limit) are sent to the exchange at
placement as its own order types. Every other type (stop-loss, take-profit, stop-limit, trailing
stop, OCO) is *emulated*: held here, evaluated on every price tick as paper orders are, and when its
trigger is reached sent to the exchange as a market order, or as a limit order at its `price`
(stop-limit, OCO legs), by the `trading.submit_triggered_order` task. This is the same on every
exchange, whatever stop orders ccxt knows for it, so a trader learns one rule; the page and the API
show it as the order's `execution`. Until it triggers, an emulated order lives only here: a server
that is down when the price crosses fires it late, on the next tick.

**Never a lost order, never a 500.** The order row is committed (pending, its funds reserved) before
the exchange is called, outside any transaction. Then:

- the exchange accepts: the order stores its exchange id and status, and each trade the answer
  carries is written through `engine.fill` (the exchange's trade id, price and fee);
- the exchange refuses: the order is rejected with our reason (`trading.exchange_errors`), its
  reservation released, and `OrderRejected` (422) raised once that is committed: the order stays
  visible;
- nobody knows (timeout, cut connection, a 5xx): the order stays pending, noted
  "unknown, will be synced", and `account_sync` asks the exchange for it by client order id. One the
  exchange has still not seen `NOT_RECEIVED_AFTER` later never reached it (Binance refuses a
  request older than its `recvWindow`, at most a minute) and is rejected as not received.

**OCO on an exchange account.** Both legs are held here and at most one is ever live at the
exchange, as with the exchange's own OCO: a leg whose trigger is reached while the other rests
there is sent only once `live_submit` has cancelled the other at the exchange (its reservation
passes to the leg being sent); if the other filled meanwhile, its fill cancels this leg and nothing
is sent. Cancelling either leg cancels, at the exchange, whichever leg is (or may be) there.

**Sync.** `account_sync` reconciles one account with the exchange: first its orders (new trades
recorded once each, the unique exchange trade id making a repeat harmless; cancelled, expired and
filled statuses), then its balances: an `adjustment` entry per asset whose total differs, so every
total is still the sum of its entries, and the lock set to what the exchange holds for orders plus
the reservations of the emulated orders held here. Running it twice writes nothing the second time.
An order whose outcome is not known yet (being sent, or its answer lost) may have traded at the
exchange already: the totals of its two assets are left alone until the order sync has written
its trades, or a balance read would count them once as an adjustment and the sync again as a fill.
An order by quote amount is complete when the exchange says so: it may trade several times.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import ccxt  # type: ignore[import-untyped]
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from cryptovault.actor import Actor
from cryptovault.errors import DomainError
from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.client import exchange_client
from exchanges.credentials import open_credentials
from security.audit import audit_record
from security.crypto import DecryptionError
from trading import exchange_errors as xe
from trading.errors import AccountInactive, InsufficientFunds, OrderNotCancellable, OrderRejected
from trading.models import (
    OPEN_STATUSES,
    Balance,
    EntryKind,
    Execution,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradingAccount,
)
from trading.services import ledger
from trading.services.orders import _lock_group

logger = logging.getLogger(__name__)

NOT_RECEIVED_AFTER = timedelta(minutes=2)
SENDING_NOTE = "sent to the exchange, waiting for its answer"
KEYS_UNREADABLE = (
    "The connection's keys cannot be read (the encryption key that sealed them is gone). Enter them again."
)

# Binance's newClientOrderId; KuCoin's clientOid allows the same and more.
_EXCHANGE_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_REMOTE_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


class NotAnExchangeAccount(DomainError):
    status_code = 409
    code = "not_an_exchange_account"
    default_message = "A paper account has nothing to sync: its balances are ours."


@dataclass
class SyncResult:
    account_id: int
    ok: bool = True
    error: str = ""
    adjustments: int = 0  # ledger entries written to match the exchange's totals
    fills: int = 0  # trades recorded
    orders_updated: int = 0  # orders whose status changed
    synced_at: datetime | None = None
    problems: list[str] = field(default_factory=list)


# Which orders go where ------------------------------------------------------------------------------


def native_form(order: Order) -> tuple[str, Decimal | None]:
    """What the exchange is sent for `order`: ("market", None) or ("limit", price).

    A native order is sent as what it is. A triggered emulated order becomes a limit at its `price`
    when it has one (stop-limit, an OCO's limit leg, a stop leg with a limit price), else a market order.
    """
    if order.type == OrderType.MARKET:
        return "market", None
    if order.type == OrderType.LIMIT or order.price is not None:
        return "limit", order.price
    return "market", None


def exchange_client_id(order: Order) -> str:
    """The client order id the exchange gets: ours when it fits the exchange's rule, else a stable digest."""
    if _EXCHANGE_CLIENT_ID.match(order.client_order_id):
        return order.client_order_id
    digest = hashlib.sha256(f"{order.user_id}:{order.client_order_id}".encode()).hexdigest()
    return f"cv-{digest[:30]}"


def on_exchange(account: TradingAccount) -> Q:
    """Orders of `account` that are (or may be) at the exchange: native ones, and emulated ones once triggered."""
    return Q(account=account) & (
        Q(execution=Execution.NATIVE) | Q(execution=Execution.EMULATED, triggered_at__isnull=False)
    )


def was_sent(order: Order) -> bool:
    """An open order handed to the exchange (or being handed): it has the exchange's id, or a note
    that it is being sent or that its answer was lost. Such an order is cancelled at the exchange."""
    return bool(order.exchange_order_id or order.reject_reason)


def _unsettled() -> Q:
    """Open orders sent to the exchange whose trades may not be written here yet: no answer so far."""
    return Q(status__in=OPEN_STATUSES) & (
        Q(reject_reason__in=[SENDING_NOTE, xe.UNKNOWN_OUTCOME_NOTE])
        | (Q(status=OrderStatus.PENDING) & ~Q(exchange_order_id=""))
    )


# The client -------------------------------------------------------------------------------------------


class KeysUnreadable(Exception):
    """The connection's sealed keys could not be opened (a rotated-away encryption key)."""


@contextmanager
def exchange_session(account: TradingAccount) -> Iterator[tuple[ExchangeSpec, ccxt.Exchange]]:
    """The exchange account's ccxt client with its keys opened, for orders, syncs and the wallet."""
    connection = account.connection
    assert connection is not None, "exchange accounts have a connection"
    spec = exchange_spec(connection.exchange)
    try:
        credentials = open_credentials(connection)
    except DecryptionError as exc:
        raise KeysUnreadable() from exc
    client = exchange_client(spec, credentials, sandbox=connection.sandbox)
    try:
        yield spec, client
    finally:
        session = getattr(client, "session", None)
        if session is not None:
            session.close()


def _log(message: str, spec: ExchangeSpec, refusal: xe.Refusal, error: Exception, **ids: int) -> None:
    """One line per failed exchange call: our code and the exception's class, never its text (URLs, bodies)."""
    logger.info(message, extra={"exchange": spec.id, "code": refusal.code, "error": type(error).__name__, **ids})


def _d(value: Any) -> Decimal:
    """A number from ccxt (a float or a string) as the Decimal the exchange sent."""
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


class _Unsendable(Exception):
    def __init__(self, code: str):
        self.code = code


def _create_args(client: ccxt.Exchange, order: Order) -> tuple[str, str | None, str | None, dict]:
    """(type, amount, price, params) for create_order, formatted by the market's precision.

    A quantity or price the market's step or tick would have to round is refused here, never
    rounded: the trader asked for that number.
    """
    kind, price = native_form(order)
    params: dict[str, Any] = {"clientOrderId": exchange_client_id(order)}
    amount_text = price_text = None
    if order.quantity is not None:
        remaining = order.quantity - order.filled_quantity
        amount_text = client.amount_to_precision(order.symbol, str(remaining))
        if Decimal(amount_text) != remaining:
            raise _Unsendable(xe.LOT_SIZE)
    elif order.quote_amount is not None:
        params["cost"] = client.cost_to_precision(order.symbol, str(order.quote_amount))
        params["quoteOrderQty"] = params["cost"]
    if kind == "limit":
        assert price is not None
        price_text = client.price_to_precision(order.symbol, str(price))
        if Decimal(price_text) != price:
            raise _Unsendable(xe.PRICE_FILTER)
        params["timeInForce"] = "IOC" if order.time_in_force == TimeInForce.IOC else "GTC"
    return kind, amount_text, price_text, params


# Placing ----------------------------------------------------------------------------------------------


def _claim(order: Order) -> Order | None:
    """Lock the order for sending; None when it is not ours to send (sent, answered or closed already)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("account__connection").get(pk=order.pk)
        if locked.status not in OPEN_STATUSES or locked.exchange_order_id or locked.reject_reason:
            return None
        if locked.filled_quantity > 0:  # filled here already (an emulated order cannot be, until sent)
            return None
        if locked.execution == Execution.PAPER or locked.account.is_paper:
            raise ValueError("live_submit is for exchange accounts")
        locked.reject_reason = SENDING_NOTE
        locked.save(update_fields=["reject_reason", "updated_at"])
    return locked


def live_submit(*, order: Order, actor: Actor | None = None) -> Order:
    """Send a committed pending order to the exchange; the order as the exchange left it.

    Raises OrderRejected (422) after committing the rejection. A network failure leaves the order
    pending for the sync. Calling it again for an order already sent changes nothing.
    """
    actor = actor or Actor.system()
    claimed = _claim(order)
    if claimed is None:
        return Order.objects.get(pk=order.pk)
    order = claimed
    if order.oco_group:
        if not _other_leg_withdrawn(order, actor=actor):
            return Order.objects.get(pk=order.pk)
        order = Order.objects.select_related("account__connection").get(pk=order.pk)  # its reservation moved
    account = order.account
    try:
        with exchange_session(account) as (spec, client):
            try:
                client.load_markets()
                kind, amount, price, params = _create_args(client, order)
            except _Unsendable as unsendable:
                refusal = xe.Refusal.of(unsendable.code)
            except Exception as error:  # nothing was sent yet: whatever failed, the order was not placed
                refusal = dataclasses.replace(xe.order_refusal(spec.id, error), known=True)
                _log("exchange markets read failed", spec, refusal, error, order_id=order.pk)
            else:
                try:
                    remote = client.create_order(order.symbol, kind, order.side, amount, price, params)
                except Exception as error:  # every failure is a rejection or an unknown outcome, never a 500
                    refusal = xe.order_refusal(spec.id, error)
                    _log("exchange order call failed", spec, refusal, error, order_id=order.pk)
                else:
                    return _placed(client, spec, order, remote, actor=actor)
    except KeysUnreadable:
        refusal = xe.Refusal(code=xe.INVALID_KEY, message=KEYS_UNREADABLE)
    if not refusal.known:
        Order.objects.filter(pk=order.pk, status__in=OPEN_STATUSES).update(
            reject_reason=xe.UNKNOWN_OUTCOME_NOTE, updated_at=timezone.now()
        )
        return Order.objects.get(pk=order.pk)
    rejected = _reject(order, refusal, actor=actor)
    raise OrderRejected(refusal.message, order_id=rejected.pk, reject_code=refusal.code)


def _other_leg_withdrawn(order: Order, *, actor: Actor) -> bool:
    """Before an OCO leg is sent, under the group's row locks: the other leg's reservation passes to
    this leg, and the other leg, if it fired too, is cancelled (at the exchange first if it was sent
    there). False when this leg must not be sent now: the other filled (its fill cancelled this
    leg), or the exchange could not be asked (this leg is released, and the sync sends it later)."""
    with transaction.atomic():
        legs = _lock_group(order)
        sent = []
        for other in legs:
            if other.pk == order.pk or other.status not in OPEN_STATUSES:
                continue
            if was_sent(other):
                sent.append(other)
            else:  # not at the exchange: it keeps watching its trigger here, unless it fired as well
                _hand_over(other, to=order, cancel=other.triggered_at is not None)
    for other in sent:
        try:
            account = TradingAccount.objects.select_related("connection").get(pk=other.account_id)
            with exchange_session(account) as (spec, client):
                other.account = account
                try:
                    _cancel_there_then_here(client, spec, other, actor=actor, handed_to=order)
                finally:
                    _refresh_locks(client, spec, other)
        except (OrderNotCancellable, xe.ExchangeCallFailed, KeysUnreadable) as error:
            logger.info("OCO leg %s waits: its other leg was not cancelled (%s)", order.pk, type(error).__name__)
            Order.objects.filter(pk=order.pk, status__in=OPEN_STATUSES, reject_reason=SENDING_NOTE).update(
                reject_reason="", updated_at=timezone.now()
            )
            return False
    return Order.objects.filter(pk=order.pk, status__in=OPEN_STATUSES).exists()


def _hand_over(other: Order, *, to: Order, cancel: bool) -> bool:
    """Inside a transaction, under the OCO group's row locks: `other`'s reservation passes to the leg
    `to` (the one going to the exchange) and, with `cancel`, `other` is cancelled here (it is not,
    or no longer, at the exchange). False when `other` is closed already."""
    from trading.services.orders import _close_without_fill, order_events_on_commit

    legs = {leg.pk: leg for leg in _lock_group(other)}
    leaving, taking = legs[other.pk], legs[to.pk]
    if leaving.status not in OPEN_STATUSES:
        return False
    moved = leaving.reserved_amount
    if taking.status in OPEN_STATUSES and moved > 0 and leaving.reserved_asset == taking.reserved_asset:
        Order.objects.filter(pk=leaving.pk).update(reserved_amount=0, updated_at=timezone.now())
        Order.objects.filter(pk=taking.pk).update(reserved_amount=taking.reserved_amount + moved)
        leaving.reserved_amount = Decimal(0)
    if not cancel:
        return True
    reason = "Cancelled: the other leg of the OCO triggered and was sent to the exchange."
    if _close_without_fill(leaving, status=OrderStatus.CANCELLED, reason=reason):
        order_events_on_commit(leaving, "order.cancelled")
        return True
    return False


def _placed(client: ccxt.Exchange, spec: ExchangeSpec, order: Order, remote: dict, *, actor: Actor) -> Order:
    """The exchange took the order: its id, trades and status recorded (or left to the sync if that fails)."""
    try:
        if not remote.get("status") and remote.get("id"):
            # Some exchanges answer a placement with its id only (KuCoin): ask what became of it.
            Order.objects.filter(pk=order.pk, exchange_order_id="").update(exchange_order_id=str(remote["id"])[:64])
            remote = client.fetch_order(str(remote["id"]), order.symbol)
        _reconcile(client, order, remote, trades=remote.get("trades") or [], actor=actor)
    except Exception as error:  # the exchange took it: whatever we failed to write, the sync writes
        name = type(error).__name__
        logger.warning("Order %s was placed on the exchange but not fully recorded (%s)", order.pk, name)
        Order.objects.filter(pk=order.pk, status__in=OPEN_STATUSES).update(
            reject_reason=xe.UNKNOWN_OUTCOME_NOTE, updated_at=timezone.now()
        )
        return Order.objects.get(pk=order.pk)
    placed = Order.objects.get(pk=order.pk)
    if placed.is_open:
        _refresh_locks(client, spec, placed)
    return placed


def _reject(order: Order, refusal: xe.Refusal, *, actor: Actor) -> Order:
    """The exchange refused: reservation released, status rejected with our words, audited and announced."""
    from trading.services.orders import reject_in_transaction

    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("account", "user").get(pk=order.pk)
        if locked.reject_reason in (SENDING_NOTE, xe.UNKNOWN_OUTCOME_NOTE):
            locked.reject_reason = ""
        if reject_in_transaction(locked, reason=refusal.message, reject_code=refusal.code):
            audit_record(
                "order.rejected",
                actor=actor,
                user=locked.user,
                outcome="failure",
                order_id=locked.pk,
                symbol=locked.symbol,
                side=locked.side,
                type=locked.type,
                reject_code=refusal.code,
                exchange_code=refusal.exchange_code,
            )
    return Order.objects.get(pk=order.pk)


# What the exchange says about an order ------------------------------------------------------------------


def _fee_rate(client: ccxt.Exchange, symbol: str, *, is_maker: bool) -> Decimal:
    try:
        market = client.market(symbol)
    except Exception:
        return Decimal(0)
    return _d(market.get("maker" if is_maker else "taker"))


def _unlock_for(order: Order, trades: list[dict]) -> None:
    """Give back the part of the lock the exchange held for what these trades spend.

    A native order reserves nothing here; the balance sync mirrors what the exchange holds for it into
    the lock. Its trades spend exactly that, so the lock is lowered first: an order holding all of an
    asset must be able to spend it. Reservations of the orders held here are never touched.
    """
    if not trades or order.reserved_amount > 0:  # an order with its own reservation: the engine frees it
        return
    buy = order.side == "buy"
    asset = order.quote_asset if buy else order.base_asset
    spent = sum((_d(t.get("price")) * _d(t.get("amount")) if buy else _d(t.get("amount")) for t in trades), Decimal(0))
    with transaction.atomic():
        balance = ledger.lock_balances(order.account, [asset])[asset]
        held = Order.objects.filter(
            account_id=order.account_id, status__in=OPEN_STATUSES, reserved_asset=asset
        ).aggregate(amount=Sum("reserved_amount"))["amount"] or Decimal(0)
        ledger.release(balance=balance, amount=min(spent, max(balance.locked - held, Decimal(0))))


def _record_trades(client: ccxt.Exchange, order: Order, trades: list[dict], *, done_at: Decimal | None = None) -> int:
    """Each trade of the exchange's not yet recorded, through the engine; how many were new.

    `done_at`: the quantity the exchange says it filled when it says the order is done. The trade
    that reaches it completes the order; before that, an order by quote amount is never complete
    (the exchange may trade it several times), one by quantity is once its quantity is reached.
    """
    from trading.services import engine

    known = set(
        Fill.objects.filter(
            account_id=order.account_id, exchange_trade_id__in=[str(t.get("id")) for t in trades]
        ).values_list("exchange_trade_id", flat=True)
    )
    fresh_trades = [t for t in trades if t.get("id") and str(t["id"]) not in known and _d(t.get("amount")) > 0]
    _unlock_for(order, fresh_trades)
    recorded = 0
    for trade in sorted(fresh_trades, key=lambda t: (t.get("timestamp") or 0, str(t.get("id")))):
        trade_id = str(trade["id"])
        if trade_id in known:
            continue
        fee = trade.get("fee") or {}
        is_maker = trade.get("takerOrMaker") == "maker"
        fresh = Order.objects.get(pk=order.pk)
        amount = _d(trade.get("amount"))
        complete: bool | None = None
        if done_at is not None:
            complete = fresh.filled_quantity + amount >= done_at
        elif fresh.quantity is None:
            complete = False  # by quote amount: done when the exchange says so (`_settle`)
        try:
            engine.fill(
                order=fresh,
                price=_d(trade.get("price")),
                quantity=amount,
                is_maker=is_maker,
                fee_rate=_fee_rate(client, order.symbol, is_maker=is_maker),
                exchange_trade_id=trade_id,
                fee=_d(fee.get("cost")) if fee.get("cost") is not None else None,
                fee_asset=fee.get("currency") or None,
                complete=complete,
            )
        except IntegrityError:  # a sync and a submit recorded it at once: the first one counts
            continue
        except engine.OrderNotFillable:  # closed here already (cancelled here while it traded there)
            logger.warning("Trade %s of order %s arrived after the order closed here", trade_id, order.pk)
            continue
        known.add(trade_id)
        recorded += 1
    return recorded


def _reconcile(
    client: ccxt.Exchange, order: Order, remote: dict, *, trades: list[dict], actor: Actor
) -> tuple[int, bool]:
    """Bring `order` in line with the exchange's `remote` answer: id, trades, status. (fills, changed)."""
    Order.objects.filter(pk=order.pk, exchange_order_id="").update(
        exchange_order_id=str(remote.get("id") or "")[:64], updated_at=timezone.now()
    )
    filled_remote = _d(remote.get("filled"))
    done_at = filled_remote if _REMOTE_STATUS.get(str(remote.get("status") or "")) == OrderStatus.FILLED else None
    recorded = _record_trades(client, order, trades, done_at=done_at)
    fresh = Order.objects.get(pk=order.pk)
    if filled_remote > fresh.filled_quantity and remote.get("id"):
        # The answer did not carry every trade (an order answer, not a placement's): ask for them.
        more = client.fetch_my_trades(order.symbol, params={"orderId": str(remote["id"])})
        theirs = [t for t in more if str(t.get("order")) == str(remote["id"])]
        recorded += _record_trades(client, order, theirs, done_at=done_at)
    changed = _settle(order, remote, actor=actor)
    return recorded, changed or recorded > 0


def _settle(order: Order, remote: dict, *, actor: Actor) -> bool:
    """Apply the exchange's status to the order (after its trades). True when the status changed."""
    from trading.services.orders import (
        _close_without_fill,
        cancel_in_transaction,
        expire_in_transaction,
        order_events_on_commit,
    )

    target = _REMOTE_STATUS.get(str(remote.get("status") or ""))
    if target == OrderStatus.REJECTED:
        return _reject(order, xe.Refusal.of(xe.EXCHANGE_ERROR), actor=actor).status == OrderStatus.REJECTED
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("account", "user").get(pk=order.pk)
        before = locked.status
        if locked.reject_reason in (SENDING_NOTE, xe.UNKNOWN_OUTCOME_NOTE):
            locked.reject_reason = ""
            locked.save(update_fields=["reject_reason", "updated_at"])
        if locked.status not in OPEN_STATUSES:
            return False
        if target is None:  # open at the exchange
            if locked.status == OrderStatus.PENDING:
                locked.status = OrderStatus.PARTIALLY_FILLED if locked.filled_quantity > 0 else OrderStatus.OPEN
                locked.save(update_fields=["status", "updated_at"])
            return locked.status != before
        if target == OrderStatus.FILLED:
            # Every trade is recorded and the engine closed it already, unless the exchange rounded a
            # quantity asked for by quote amount: then it is filled as the exchange says.
            if _close_without_fill(locked, status=OrderStatus.FILLED):
                order_events_on_commit(locked, "order.filled")
            return True
        if target == OrderStatus.EXPIRED:
            expire_in_transaction(locked, reason="The exchange could not fill it at once (immediate or cancel).")
            return True
        if cancel_in_transaction(locked, reason="Cancelled on the exchange."):
            order_events_on_commit(locked, "order.cancelled")
        return True


def _fetch_remote(client: ccxt.Exchange, order: Order) -> dict | None:
    """The exchange's view of `order`, by its id or else by our client order id; None when it has none."""
    try:
        if order.exchange_order_id:
            return client.fetch_order(order.exchange_order_id, order.symbol)
        return client.fetch_order(None, order.symbol, params={"clientOrderId": exchange_client_id(order)})
    except ccxt.OrderNotFound:
        return None


def _sent_at(order: Order) -> datetime:
    return order.triggered_at or order.created_at


def _sync_order(client: ccxt.Exchange, spec: ExchangeSpec, order: Order, *, actor: Actor) -> tuple[int, bool]:
    """One order brought in line with the exchange: (trades recorded, whether it changed)."""
    young = timezone.now() - _sent_at(order) < NOT_RECEIVED_AFTER
    if not order.exchange_order_id and not order.reject_reason:  # never handed to the exchange
        if order.execution == Execution.EMULATED:
            # Triggered, but its task has not sent it (lost, or still queued): send it now. The claim in
            # `live_submit` lets only one of the two send it.
            try:
                sent = live_submit(order=order, actor=actor)
            except OrderRejected:
                return 0, True
            return 0, sent.status != order.status or bool(sent.exchange_order_id)
        if young:
            return 0, False  # `live_submit` is about to send it
        _reject(order, xe.Refusal.of(xe.NOT_RECEIVED), actor=actor)  # committed, then never sent (a crash)
        return 0, True
    remote = _fetch_remote(client, order)
    if remote is None:
        if order.exchange_order_id or young:
            return 0, False  # still on its way (or the exchange forgot a closed one: nothing to learn)
        _reject(order, xe.Refusal.of(xe.NOT_RECEIVED), actor=actor)
        return 0, True
    return _reconcile(client, order, remote, trades=[], actor=actor)


# Cancelling -------------------------------------------------------------------------------------------


def live_cancel(*, order: Order, actor: Actor | None = None) -> Order:
    """Cancel at the exchange, then here. OrderNotCancellable when the exchange says it filled meanwhile.

    An OCO is cancelled whole, whichever leg is named: the leg that was sent (it may be the other
    one) is cancelled at the exchange first. An exchange that cannot be asked now (down, refusing
    the key) is `ExchangeCallFailed` (503) and nothing changes here: the order is still open there.
    """
    from trading.services.orders import cancel_in_transaction, order_events_on_commit

    actor = actor or Actor.system()
    with transaction.atomic():
        legs = _lock_group(order)
        locked = next(leg for leg in legs if leg.pk == order.pk)
        if locked.status not in OPEN_STATUSES:
            raise OrderNotCancellable()
        sent = [leg for leg in legs if leg.status in OPEN_STATUSES and was_sent(leg)]
        if not sent:
            # Never sent (an emulated order not triggered, or its task not started): cancelled here, and the
            # row locks keep `live_submit` from claiming any leg meanwhile.
            if cancel_in_transaction(locked, reason="Cancelled by the owner."):
                order_events_on_commit(locked, "order.cancelled")
            return locked
    account = TradingAccount.objects.select_related("connection").get(pk=locked.account_id)
    try:
        with exchange_session(account) as (spec, client):
            for leg in sent:
                leg.account = account
                try:
                    _cancel_there_then_here(client, spec, leg, actor=actor)
                finally:  # what the exchange holds for the account changed (freed, or spent by a fill)
                    _refresh_locks(client, spec, leg)
    except KeysUnreadable:
        raise xe.ExchangeCallFailed(xe.Refusal(code=xe.INVALID_KEY, message=KEYS_UNREADABLE)) from None
    return Order.objects.get(pk=order.pk)


@contextmanager
def _unreachable_is_503(spec: ExchangeSpec) -> Iterator[None]:
    """An exchange call during a cancel that fails (a timeout, a refused connection, an answer ccxt
    cannot read) is the trader's 503 with our words, never a 500; nothing here changed, the sync
    finishes what the exchange did."""
    try:
        yield
    except DomainError:
        raise
    except Exception as error:
        raise xe.ExchangeCallFailed(xe.order_refusal(spec.id, error)) from None


def _cancel_there_then_here(
    client: ccxt.Exchange, spec: ExchangeSpec, order: Order, *, actor: Actor, handed_to: Order | None = None
) -> Order:
    """Cancel `order` at the exchange (recording what it traded first), then here with its OCO group;
    with `handed_to`, only this leg is cancelled here and its reservation passes to that leg."""
    from trading.services.orders import cancel_in_transaction, order_events_on_commit

    try:
        client.load_markets()
        if order.exchange_order_id:
            remote = client.cancel_order(order.exchange_order_id, order.symbol)
        else:
            remote = client.cancel_order(None, order.symbol, params={"clientOrderId": exchange_client_id(order)})
    except Exception as error:
        refusal = xe.order_refusal(spec.id, error)
        if refusal.code != xe.UNKNOWN_ORDER:
            raise xe.ExchangeCallFailed(refusal) from None
        # Not open there: filled, cancelled elsewhere, or never received. Learn which.
        with _unreachable_is_503(spec):
            found = _fetch_remote(client, order)
        if found is None:
            if order.exchange_order_id or timezone.now() - _sent_at(order) < NOT_RECEIVED_AFTER:
                raise xe.ExchangeCallFailed(xe.Refusal.of(xe.UNKNOWN_ORDER)) from None
            found = {"status": "canceled"}  # it never reached the exchange: nothing to cancel there
        with _unreachable_is_503(spec):
            _reconcile(client, order, found, trades=[], actor=actor)
        order = Order.objects.get(pk=order.pk)
        if order.status == OrderStatus.FILLED:
            raise OrderNotCancellable(
                "The exchange filled this order before it could be cancelled; its trades are recorded."
            ) from None
        if order.status == OrderStatus.CANCELLED:
            return order
        raise xe.ExchangeCallFailed(refusal) from None
    if _d(remote.get("filled")) > order.filled_quantity:
        # Trades made before the cancel (a partial fill) are recorded first. If the exchange cannot be
        # read now, the order stays open here and the sync records its trades and the cancel.
        with _unreachable_is_503(spec):
            _reconcile(client, order, {**remote, "status": "open"}, trades=[], actor=actor)
    if Order.objects.filter(pk=order.pk, status=OrderStatus.FILLED).exists():
        # Its trades, recorded first, completed it (the cancel reached the exchange once it was done).
        raise OrderNotCancellable(
            "The exchange filled this order before it could be cancelled; its trades are recorded."
        )
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).select_related("account", "user").get(pk=order.pk)
        if locked.reject_reason in (SENDING_NOTE, xe.UNKNOWN_OUTCOME_NOTE):
            locked.reject_reason = ""
            locked.save(update_fields=["reject_reason", "updated_at"])
        if handed_to is not None:
            _hand_over(locked, to=handed_to, cancel=True)
        elif cancel_in_transaction(locked, reason="Cancelled by the owner."):
            order_events_on_commit(locked, "order.cancelled")
    return Order.objects.get(pk=order.pk)


# Syncing ----------------------------------------------------------------------------------------------


def account_sync(*, actor: Actor, account: TradingAccount) -> SyncResult:
    """Reconcile one exchange account's orders, trades and balances with the exchange."""
    account = TradingAccount.objects.select_related("connection").get(pk=account.pk)
    if account.is_paper:
        raise NotAnExchangeAccount()
    if not account.is_active:
        raise AccountInactive()
    result = SyncResult(account_id=account.pk)
    try:
        with exchange_session(account) as (spec, client):
            try:
                client.load_markets()
                lagging = _sync_orders(client, spec, account, result, actor=actor)
                result.adjustments = sync_balances(account, client.fetch_balance(), spec=spec)
                if lagging:
                    # Trades our ledger could not take before it knew the money the exchange had: again,
                    # now that it does (what they double-count, the next balance read adjusts back).
                    _sync_orders(client, spec, account, result, actor=actor, only=lagging)
                    result.adjustments += sync_balances(account, client.fetch_balance(), spec=spec)
            except Exception as error:
                refusal = xe.order_refusal(spec.id, error)
                _log("exchange account sync failed", spec, refusal, error, account_id=account.pk)
                result.problems.append(_sync_message(refusal))
    except KeysUnreadable:
        result.problems.append(KEYS_UNREADABLE)
    now = timezone.now()
    result.ok = not result.problems
    result.error = " ".join(result.problems)[:300]
    update: dict[str, Any] = {"sync_error": result.error}
    if result.ok:
        update["synced_at"] = result.synced_at = now
    TradingAccount.objects.filter(pk=account.pk).update(**update)
    return result


def _sync_message(refusal: xe.Refusal) -> str:
    if refusal.code == xe.NETWORK_ERROR:
        return xe.MESSAGES[xe.NETWORK_ERROR]
    if refusal.code in (xe.INVALID_KEY, xe.PERMISSION_DENIED, xe.RATE_LIMITED, xe.EXCHANGE_UNAVAILABLE):
        return refusal.message
    return "The exchange answered the sync with an error we do not recognise; we try again at the next sync."


def _sync_orders(
    client: ccxt.Exchange,
    spec: ExchangeSpec,
    account: TradingAccount,
    result: SyncResult,
    *,
    actor: Actor,
    only: list[int] | None = None,
) -> list[int]:
    """Each order at the exchange brought in line; the ids whose trades the ledger could not take yet."""
    orders = Order.objects.filter(on_exchange(account), status__in=OPEN_STATUSES).order_by("id")
    if only is not None:
        orders = orders.filter(pk__in=only)
    lagging: list[int] = []
    for order in orders:
        try:
            fills, changed = _sync_order(client, spec, order, actor=actor)
        except InsufficientFunds:  # the exchange's money is not in our ledger yet: after the balances
            lagging.append(order.pk)
            continue
        except Exception as error:  # one order the exchange cannot answer for does not stop the others
            refusal = xe.order_refusal(spec.id, error)
            _log("exchange order sync failed", spec, refusal, error, order_id=order.pk)
            message = _sync_message(refusal)
            if message not in result.problems:
                result.problems.append(message)
            continue
        result.fills += fills
        result.orders_updated += changed
    if only is not None and lagging:
        result.problems.append("Some trades could not be written yet; the next sync tries again.")
    return lagging


def _reservations(account: TradingAccount) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(held at the exchange, held here) reservations of the account's open orders, by asset."""
    open_orders = Order.objects.filter(account=account, status__in=OPEN_STATUSES, reserved_amount__gt=0)
    there: dict[str, Decimal] = {}
    here: dict[str, Decimal] = {}
    for target, orders in (
        (there, open_orders.filter(on_exchange(account))),
        (here, open_orders.exclude(on_exchange(account))),
    ):
        for row in orders.values("reserved_asset").annotate(amount=Sum("reserved_amount")):
            target[row["reserved_asset"]] = row["amount"] or Decimal(0)
    return there, here


def _refresh_locks(client: ccxt.Exchange, spec: ExchangeSpec, order: Order) -> None:
    """A resting order's funds are held by the exchange now: show it at once, not at the next sync."""
    try:
        answer = client.fetch_balance()
        sync_balances(order.account, answer, spec=spec, only={order.base_asset, order.quote_asset})
    except Exception as error:  # best effort: the sync reads them again anyway
        _log("balance read after an order failed", spec, xe.order_refusal(spec.id, error), error, order_id=order.pk)


def _prices_now() -> dict:
    """Market prices for the cost basis of synced balances; none (the average stays) if unavailable."""
    from trading.portfolio import current_tickers

    try:
        return current_tickers()
    except Exception:
        logger.warning("No prices for the cost basis of synced balances.", exc_info=True)
        return {}


def sync_balances(account: TradingAccount, answer: dict, *, spec: ExchangeSpec, only: set[str] | None = None) -> int:
    """Totals to the exchange's (adjustment entries), locks to what is held there and here. Entries written."""
    totals = {asset: _d(value) for asset, value in (answer.get("total") or {}).items() if value is not None}
    used = {asset: _d(value) for asset, value in (answer.get("used") or {}).items() if value is not None}
    from trading.services.engine import cost_basis_on_deposit

    written = 0
    prices = _prices_now()
    with transaction.atomic():
        known = set(Balance.objects.filter(account=account).values_list("asset", flat=True))
        assets = known | {asset for asset, total in totals.items() if total}
        if only is not None:
            assets &= only
        balances = ledger.lock_balances(account, assets)
        there, here = _reservations(account)
        unsettled: set[str] = set()
        for base, quote in (
            Order.objects.filter(on_exchange(account)).filter(_unsettled()).values_list("base_asset", "quote_asset")
        ):
            unsettled |= {base, quote}
        for asset, balance in balances.items():
            # An asset an unanswered order may have traded keeps our total until the order sync writes it.
            total = balance.total if asset in unsettled else totals.get(asset, Decimal(0))
            locked = min(
                total, max(used.get(asset, Decimal(0)), there.get(asset, Decimal(0))) + here.get(asset, Decimal(0))
            )
            if balance.locked > locked:
                ledger.release(balance=balance, amount=balance.locked - locked)
            if total != balance.total:
                ticker = prices.get(f"{asset}/{account.quote_currency}")
                price = Decimal(1) if asset == account.quote_currency else (ticker.last if ticker else None)
                cost_basis_on_deposit(balance, total - balance.total, price)
                ledger.post_entry(
                    balance=balance,
                    kind=EntryKind.ADJUSTMENT,
                    amount=total - balance.total,
                    note=f"Synced from {spec.name}: the exchange reports {total.normalize():f} {asset}",
                )
                written += 1
            if balance.locked < locked:
                ledger.reserve(balance=balance, amount=locked - balance.locked)
    return written
