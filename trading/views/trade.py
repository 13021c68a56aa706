"""The trade ticket (/trade/): type an order, review it with its estimated fee and total, then place it.

Three steps on one address, told apart by the posted `step`:
- the ticket (GET, or `step=edit` to come back to it with everything typed);
- `step=review`: the form is checked and the confirmation shows the order in words, the current price,
  the exchange's fee and the estimated total; nothing is placed;
- `step=place`: `trading.services.orders.order_place` places it (counted against the per-user "orders"
  rate limit, the API's counter) and the order's page follows. A refusal (the market's minimum, the
  step, the funds) goes back to the ticket with the message on its field and nothing typed lost.

The ticket carries a client order id made when it was shown, so placing twice (a double click, a
reload of the confirmation) finds the order already placed instead of placing a second one.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cryptovault.errors import DomainError
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited
from exchanges.errors import UnknownSymbol
from exchanges.market.feed import MarketUnavailable, Ticker
from exchanges.market.symbols import market_symbols, parse_symbol
from trading.errors import OrderRejected
from trading.estimates import estimate
from trading.forms import LABELS, TYPE_FIELDS, TradeForm
from trading.markets import market_rules
from trading.models import Order, OrderType, TradingAccount
from trading.prices import current_ticker
from trading.selectors import accounts_for, order_for
from trading.services.orders import order_place
from trading.templatetags.trading_display import price, qty


def _ticker(symbol: str) -> Ticker | None:
    try:
        return current_ticker(symbol)
    except (MarketUnavailable, UnknownSymbol):
        return None


def _fees(account: TradingAccount, symbol: str) -> tuple[Decimal, Decimal]:
    rules = market_rules(account, symbol)
    return rules.taker_fee, rules.maker_fee


def _initial(request: HttpRequest, accounts: list[TradingAccount]) -> dict[str, Any]:
    """?symbol=BTC-USDT&account=<id> (links from the markets and the portfolio) preselect the ticket."""
    initial: dict[str, Any] = {"client_order_id": f"cv-{uuid.uuid4().hex[:24]}"}
    try:
        initial["symbol"] = parse_symbol(request.GET.get("symbol", "")) if request.GET.get("symbol") else None
    except UnknownSymbol:
        initial["symbol"] = None
    if not initial["symbol"]:
        initial["symbol"] = market_symbols()[0]
    asked = request.GET.get("account", "")
    initial["account"] = next((a for a in accounts if str(a.pk) == asked), accounts[0] if accounts else None)
    for name in ("side", "type"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    return initial


def _ticket(request: HttpRequest, form: TradeForm, accounts: list[TradingAccount], status: int = 200) -> HttpResponse:
    symbol = form["symbol"].value() or market_symbols()[0]
    fees = {}
    for account in accounts:
        try:
            taker, maker = _fees(account, symbol)
        except DomainError:  # an exchange account whose markets cannot be read now: no estimate for it
            continue
        fees[str(account.pk)] = {"taker": str(taker), "maker": str(maker)}
    ticker = _ticker(symbol)
    context = {
        "form": form,
        "accounts": accounts,
        "type_fields": TradeForm.type_fields_json(),
        "fees": json.dumps(fees),
        "slippage_bps": settings.PAPER_SLIPPAGE_BPS,
        "paper_ids": json.dumps([str(account.pk) for account in accounts if account.is_paper]),
        "ticker": ticker,
        "symbols": market_symbols(),
    }
    return render(request, "trading/trade.html", context, status=status)


def _used_fields(form: TradeForm) -> list[tuple[str, Any]]:
    """The amounts the order states, in the ticket's words, for the confirmation."""
    data = form.cleaned_data
    return [(LABELS[name], data[name]) for name in TYPE_FIELDS[data["type"]] if name in LABELS and data.get(name)]


@login_required
@require_http_methods(["GET", "POST"])
def trade(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_for(request.user).filter(is_active=True))
    if not accounts:
        return render(request, "trading/trade_no_account.html", {"starting_balance": settings.PAPER_STARTING_BALANCE})
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step == "place":
        return place(request)
    queryset = accounts_for(request.user).filter(is_active=True)
    if request.method == "POST":
        form = TradeForm(request.POST, accounts=queryset)
        if step != "edit" and form.is_valid():  # "review", or Enter pressed in a field
            data = form.cleaned_data
            try:
                taker, maker = _fees(data["account"], data["symbol"])
            except DomainError as exc:
                form.add_error(None, exc.message)
                return _ticket(request, form, accounts)
            context = {
                "form": form,
                "order": data,
                "carried": form.carried(),
                "amounts": _used_fields(form),
                "estimate": estimate(data, _ticker(data["symbol"]), taker, maker),
                "type_label": OrderType(data["type"]).label,
            }
            return render(request, "trading/trade_confirm.html", context)
        if step == "edit":
            form.errors.clear()  # back to the ticket as typed: no errors before the trader submits again
        return _ticket(request, form, accounts)
    return _ticket(request, TradeForm(initial=_initial(request, accounts), accounts=queryset), accounts)


@rate_limited("orders", per="user")
def place(request: HttpRequest) -> HttpResponse:
    """The confirmation's "Place the order": one service call; its refusals go back onto the ticket."""
    accounts = list(accounts_for(request.user).filter(is_active=True))
    form = TradeForm(request.POST, accounts=accounts_for(request.user).filter(is_active=True))
    placed = submit(request, form, lambda _data: _place_or_rejected(request, form))
    if placed.done and placed.result is not None:
        order, created, rejection = placed.result
        if rejection:
            messages.error(request, f"The exchange refused the order: {rejection}")
        elif not created:
            messages.info(request, "This order was placed already; here it is.")
        else:
            messages.success(request, f"Order placed: {_order_words(order)}.")
        return redirect("trading:order_detail", pk=order.pk)
    return _ticket(request, form, accounts)


def _place_or_rejected(request: HttpRequest, form: TradeForm) -> tuple[Order, bool, str]:
    """Place the order; an exchange's refusal keeps the (rejected) order, so its page is where to go."""
    try:
        result = order_place(actor=page_actor(request), **form.order_arguments())
    except OrderRejected as exc:
        return order_for(request.user, exc.order_id), True, exc.message
    return result.order, result.created, ""


def _order_words(order: Order) -> str:
    """ "buy 0.01 BTC/USDT, limit at 60,000": what was placed, for the message on the next page."""
    amount = f"{qty(order.quantity)} " if order.quantity is not None else f"{qty(order.quote_amount)} USDT of "
    words = f"{order.get_side_display().lower()} {amount}{order.symbol}, {order.get_type_display().lower()}"
    if order.price is not None:
        words += f" at {price(order.price)}"
    if order.stop_price is not None:
        words += f", trigger {price(order.stop_price)}"
    return words
