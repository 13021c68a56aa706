"""What the trade ticket's confirmation shows: the price an order is expected to trade at, its fee and total.

Display only: the fill decides the real price and fee (`trading.services.orders`, `trading.services.engine`).
The estimate follows the same rules: a market order (and a trailing stop) at the current price moved by
the paper slippage against the taker; a limit that crosses the market at once at the current price as a
taker; a resting limit at its price as a maker; stops at their trigger as takers. `static/js/trade.js`
repeats this arithmetic in the browser only to move the figures live as the price ticks; the
confirmation is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from exchanges.market.feed import Ticker
from trading.models import OrderSide, OrderType, TradingAccount

BPS = Decimal(10_000)


@dataclass(frozen=True)
class Estimate:
    """What the confirmation shows. Display only: the fill decides the real price and fee."""

    reference_label: str  # "Current price" / "Limit price" / "Trigger price"
    reference_price: Decimal | None
    quantity: Decimal | None
    notional: Decimal | None
    fee_rate: Decimal
    fee_kind: str  # "maker" / "taker"
    fee: Decimal | None
    total: Decimal | None
    total_label: str  # "Estimated cost" / "Estimated proceeds"
    ticker: Ticker | None
    slippage_bps: int


def estimate(data: dict[str, Any], ticker: Ticker | None, taker_fee: Decimal, maker_fee: Decimal) -> Estimate:
    """The order's value at the price it is expected to trade at, and the fee on it.

    Market orders and trailing stops trade near the current price (paper accounts add the configured
    slippage, against the taker); limit-priced orders at their limit; stops at their trigger. A limit
    order that would not fill at once rests and pays the maker fee, anything else the taker fee.
    """
    kind, side = data["type"], data["side"]
    last = ticker.last if ticker else None
    account: TradingAccount = data["account"]
    slippage = settings.PAPER_SLIPPAGE_BPS if account.is_paper else 0
    marketable = kind == OrderType.LIMIT and last is not None and data.get("price") is not None
    marketable = marketable and (data["price"] >= last if side == OrderSide.BUY else data["price"] <= last)
    if marketable:
        # The service fills a limit that crosses the market at once, at the current price, as a taker.
        label, reference = "Current price", last
    elif kind in (OrderType.MARKET, OrderType.TRAILING_STOP):
        label = "Current price"
        reference = None
        if last is not None:
            move = Decimal(slippage) / BPS
            reference = last * (1 + move) if side == OrderSide.BUY else last * (1 - move)
    elif kind in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.OCO):
        label, reference = "Limit price", data.get("price")
    else:
        label, reference = "Trigger price", data.get("stop_price")
    resting = kind == OrderType.LIMIT and last is not None and reference is not None
    resting = resting and (reference < last if side == OrderSide.BUY else reference > last)
    fee_rate, fee_kind = (maker_fee, "maker") if resting else (taker_fee, "taker")
    quantity, notional = data.get("quantity"), None
    if quantity is not None and reference is not None:
        notional = quantity * reference
    elif data.get("quote_amount") is not None:
        notional = data["quote_amount"]
        quantity = notional / reference if reference else None
    fee = notional * fee_rate if notional is not None else None
    total = None
    if notional is not None and fee is not None:
        total = notional + fee if side == OrderSide.BUY else notional - fee
    return Estimate(
        reference_label=label,
        reference_price=reference,
        quantity=quantity,
        notional=notional,
        fee_rate=fee_rate,
        fee_kind=fee_kind,
        fee=fee,
        total=total,
        total_label="Estimated cost" if side == OrderSide.BUY else "Estimated proceeds",
        ticker=ticker,
        slippage_bps=slippage if kind in (OrderType.MARKET, OrderType.TRAILING_STOP) else 0,
    )
