"""What a portfolio is worth: holdings per asset across accounts, valued at the current prices.

Pure valuation: `value_portfolio(balances, tickers)` reads the balances it is given and the tickers
it is given, and queries nothing. The selector (`trading.selectors.portfolio_for`) hands it one
query's balances and one call's tickers, so a portfolio costs the same whatever the number of
assets, accounts or orders: it is computed from balances, never from orders or fills.

The method is AVERAGE COST, as the ledger keeps it (`Balance.cost_basis`, `Balance.realized_pnl`,
updated in the transaction of each fill):
- an asset held in several accounts has one cost basis, the quantity-weighted average of the
  accounts' averages: sum(quantity_i x cost_basis_i) / sum(quantity_i);
- unrealised PnL = (price - cost basis) x quantity, i.e. value - what the units held cost;
- realised PnL is what sales realised, summed over the accounts (it stays after the asset is sold
  off, so a closed position still shows what it made);
- the 24 h change is that of the markets (the tickers' `change_24h_pct`) applied to what is held
  now: value x pct / (100 + pct), the value the same quantity had 24 h ago subtracted.

USDT, the quote currency, is worth 1 and carries no PnL. An asset without a followed market (or
whose market has no price right now) is listed with its quantity and `price` None, left out of the
total value and the allocation, and says so in `note`: nothing is valued at a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Context, Decimal, localcontext
from typing import Any

from exchanges.market import feed
from exchanges.market.feed import Ticker
from exchanges.market.symbols import market_symbols
from trading.models import Balance
from trading.models.accounts import QUOTE_CURRENCY
from trading.prices import last_tick_tickers

METHOD = "average cost"
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
MONEY_STEP = Decimal(10) ** -18  # what the database keeps (MONEY's decimal_places)
# Amounts have up to 38 digits; products and sums are exact in this context, then kept to 18 decimals.
WIDE = Context(prec=80)


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as JSON carries it: a plain string without exponent or trailing zeros ("0.5", "100")."""
    if value is None:
        return None
    if value == 0:
        return "0"
    with localcontext(WIDE):
        return format(value.normalize(), "f")


def _money(value: Decimal) -> Decimal:
    return value.quantize(MONEY_STEP)


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole * HUNDRED).quantize(CENT) if whole else None


@dataclass(frozen=True)
class AccountShare:
    """One account's part of a holding, as its balance says."""

    account_id: int
    account_name: str
    account_kind: str
    quantity: Decimal
    available: Decimal
    locked: Decimal
    cost_basis: Decimal
    realized_pnl: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "account_kind": self.account_kind,
            "quantity": decimal_text(self.quantity),
            "available": decimal_text(self.available),
            "locked": decimal_text(self.locked),
            "cost_basis": decimal_text(self.cost_basis),
            "realized_pnl": decimal_text(self.realized_pnl),
        }


@dataclass(frozen=True)
class Holding:
    """One asset across every account. Money is in USDT; `price` None means "not valued" (see `note`)."""

    asset: str
    quantity: Decimal
    available: Decimal
    locked: Decimal
    price: Decimal | None
    value: Decimal | None
    allocation_pct: Decimal | None
    cost_basis: Decimal | None  # average cost per unit held, quantity-weighted across accounts
    unrealized_pnl: Decimal | None
    realized_pnl: Decimal
    change_24h_pct: Decimal | None
    change_24h_value: Decimal | None
    accounts: tuple[AccountShare, ...]
    symbol: str | None = None  # the market that prices it ("BTC/USDT"); None for USDT and unknown assets
    note: str = ""  # why it has no price, when it has none

    @property
    def is_priced(self) -> bool:
        return self.price is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every decimal a string (None stays None), the accounts' parts included."""
        return {
            "asset": self.asset,
            "symbol": self.symbol,
            "quantity": decimal_text(self.quantity),
            "available": decimal_text(self.available),
            "locked": decimal_text(self.locked),
            "price": decimal_text(self.price),
            "value": decimal_text(self.value),
            "allocation_pct": decimal_text(self.allocation_pct),
            "cost_basis": decimal_text(self.cost_basis),
            "unrealized_pnl": decimal_text(self.unrealized_pnl),
            "realized_pnl": decimal_text(self.realized_pnl),
            "change_24h_pct": decimal_text(self.change_24h_pct),
            "change_24h_value": decimal_text(self.change_24h_value),
            "note": self.note,
            "accounts": [share.as_dict() for share in self.accounts],
        }


@dataclass(frozen=True)
class Portfolio:
    """Every holding and the totals of the priced ones (unpriced assets are named in `unpriced_assets`)."""

    holdings: tuple[Holding, ...]
    total_value: Decimal
    total_unrealized_pnl: Decimal
    total_realized_pnl: Decimal
    change_24h_value: Decimal
    change_24h_pct: Decimal | None
    prices_source_label: str
    prices_at: datetime | None
    unpriced_assets: tuple[str, ...] = ()
    method: str = METHOD
    quote_currency: str = QUOTE_CURRENCY
    notes: tuple[str, ...] = field(default=())

    def holding(self, asset: str) -> Holding | None:
        return next((holding for holding in self.holdings if holding.asset == asset), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "quote_currency": self.quote_currency,
            "total_value": decimal_text(self.total_value),
            "total_unrealized_pnl": decimal_text(self.total_unrealized_pnl),
            "total_realized_pnl": decimal_text(self.total_realized_pnl),
            "change_24h_value": decimal_text(self.change_24h_value),
            "change_24h_pct": decimal_text(self.change_24h_pct),
            "prices_source_label": self.prices_source_label,
            "prices_at": self.prices_at.isoformat() if self.prices_at else None,
            "unpriced_assets": list(self.unpriced_assets),
            "notes": list(self.notes),
            "holdings": [holding.as_dict() for holding in self.holdings],
        }


# Prices ----------------------------------------------------------------------------------------


def current_tickers() -> dict[str, Ticker]:
    """Every followed market's current ticker, by symbol, in ONE call whatever the number of assets.

    The same source `trading.prices.current_ticker` uses for one market: the publisher's last tick
    while fresh, else the feed's cached tickers (live, or the labelled replay).
    """
    return last_tick_tickers() or {ticker.symbol: ticker for ticker in feed.tickers()}


# Valuation -------------------------------------------------------------------------------------


@dataclass
class _Sum:
    quantity: Decimal = ZERO
    locked: Decimal = ZERO
    cost: Decimal = ZERO  # sum(quantity_i x cost_basis_i): what the units held cost
    realized: Decimal = ZERO
    shares: list[AccountShare] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """What valuation reads of one balance and its account. The selector reads these straight from
    the database as tuples: a model instance (and its account's) per balance was a third of a
    portfolio request for 50 assets."""

    asset: str
    total: Decimal
    locked: Decimal
    cost_basis: Decimal
    realized_pnl: Decimal
    account_id: int
    account_name: str
    account_kind: str

    FIELDS = (
        "asset",
        "total",
        "locked",
        "cost_basis",
        "realized_pnl",
        "account_id",
        "account__name",
        "account__kind",
    )

    @classmethod
    def of(cls, balance: Balance | BalanceRow) -> BalanceRow:
        if isinstance(balance, BalanceRow):
            return balance
        account = balance.account  # select_related by the caller: no query here
        return cls(
            balance.asset,
            balance.total,
            balance.locked,
            balance.cost_basis,
            balance.realized_pnl,
            account.pk,
            account.name,
            account.kind,
        )


def _gather(balances: Iterable[Balance | BalanceRow]) -> dict[str, _Sum]:
    sums: dict[str, _Sum] = {}
    for balance in map(BalanceRow.of, balances):
        entry = sums.setdefault(balance.asset, _Sum())
        entry.quantity += balance.total
        entry.locked += balance.locked
        entry.cost += balance.total * balance.cost_basis
        entry.realized += balance.realized_pnl
        entry.shares.append(
            AccountShare(
                account_id=balance.account_id,
                account_name=balance.account_name,
                account_kind=balance.account_kind,
                quantity=balance.total,
                available=balance.total - balance.locked,
                locked=balance.locked,
                cost_basis=balance.cost_basis,
                realized_pnl=balance.realized_pnl,
            )
        )
    return sums


def _unpriced_note(asset: str, symbol: str, followed: set[str]) -> str:
    if symbol in followed:
        return f"No price for {symbol} right now: not valued."
    return f"{asset} has no followed market ({QUOTE_CURRENCY} pair): not valued."


def _holding(asset: str, entry: _Sum, by_symbol: Mapping[str, Ticker], followed: set[str]) -> Holding:
    # The asset's amounts as the ledger holds them, not valued (no price): each case below values it as it can.
    unvalued = Holding(
        asset=asset,
        quantity=entry.quantity,
        available=entry.quantity - entry.locked,
        locked=entry.locked,
        price=None,
        value=None,
        allocation_pct=None,
        cost_basis=None,
        unrealized_pnl=None,
        realized_pnl=entry.realized,
        change_24h_pct=None,
        change_24h_value=None,
        accounts=tuple(entry.shares),
    )
    if asset == QUOTE_CURRENCY:
        return replace(
            unvalued,
            price=ONE,
            value=entry.quantity,
            cost_basis=ONE,
            unrealized_pnl=ZERO,
            change_24h_pct=ZERO,
            change_24h_value=ZERO,
        )
    symbol = f"{asset}/{QUOTE_CURRENCY}"
    cost_basis = _money(entry.cost / entry.quantity) if entry.quantity else None
    ticker = by_symbol.get(symbol)
    if ticker is None and not entry.quantity:
        # A closed position on a market without a price: nothing held to value, its realised PnL stays.
        return replace(
            unvalued,
            value=ZERO,
            unrealized_pnl=ZERO,
            change_24h_value=ZERO,
            symbol=symbol if symbol in followed else None,
        )
    if ticker is None:
        return replace(
            unvalued,
            cost_basis=cost_basis,
            symbol=symbol if symbol in followed else None,
            note=_unpriced_note(asset, symbol, followed),
        )
    value = _money(ticker.last * entry.quantity)
    pct = ticker.change_24h_pct
    change = _money(value * pct / (HUNDRED + pct)) if pct != -HUNDRED else -value
    return replace(
        unvalued,
        price=ticker.last,
        value=value,
        cost_basis=cost_basis,
        unrealized_pnl=_money(value - entry.cost),
        change_24h_pct=pct,
        change_24h_value=change,
        symbol=symbol,
    )


def _source_label(used: Iterable[Ticker]) -> str:
    labels = list(dict.fromkeys(ticker.source_label for ticker in used))
    return "; ".join(labels)


def value_portfolio(balances: Iterable[Balance | BalanceRow], market: Mapping[str, Ticker]) -> Portfolio:
    """The portfolio of `balances` (with their accounts loaded) at the prices of `market` (by symbol).

    Balances of zero quantity that realised something are kept: the position is closed but its
    realised PnL is part of the total. Holdings come largest value first, unpriced ones last.
    """
    with localcontext(WIDE):
        return _value(balances, market)


def _value(balances: Iterable[Balance | BalanceRow], market: Mapping[str, Ticker]) -> Portfolio:
    followed = set(market_symbols())
    sums = _gather(balances)
    held = [
        _holding(asset, entry, market, followed) for asset, entry in sums.items() if entry.quantity or entry.realized
    ]
    priced = [holding for holding in held if holding.value is not None]
    total = sum((holding.value for holding in priced if holding.value is not None), ZERO)
    change = sum((holding.change_24h_value or ZERO for holding in priced), ZERO)
    holdings = sorted(
        (_with_allocation(holding, total) for holding in held),
        key=lambda holding: (holding.value is None, -(holding.value or ZERO), holding.asset),
    )
    used = [market[holding.symbol] for holding in priced if holding.symbol is not None and holding.symbol in market]
    unpriced = tuple(holding.asset for holding in holdings if holding.value is None)
    return Portfolio(
        holdings=tuple(holdings),
        total_value=total,
        total_unrealized_pnl=sum((holding.unrealized_pnl or ZERO for holding in priced), ZERO),
        total_realized_pnl=sum((holding.realized_pnl for holding in held), ZERO),
        change_24h_value=change,
        change_24h_pct=_pct(change, total - change),
        prices_source_label=_source_label(used or market.values()),
        prices_at=max((ticker.updated_at for ticker in used), default=None),
        unpriced_assets=unpriced,
        notes=tuple(holding.note for holding in holdings if holding.note),
    )


def _with_allocation(holding: Holding, total: Decimal) -> Holding:
    if holding.value is None or not total:
        return holding
    return replace(holding, allocation_pct=_pct(holding.value, total))
