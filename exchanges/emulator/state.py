"""What the emulated exchanges know: API keys, accounts with balances, orders, trades, faults.

One `ExchangeState` per exchange, all guarded by one lock per exchange because the HTTP server
answers each request on its own thread while tests change keys, prices and faults from theirs.
The order engine is the exchange's side of a spot trade, kept deliberately small: a MARKET order
fills at once at the pair's price, a LIMIT order that crosses the price fills at once at the price,
any other LIMIT order rests (its funds locked) until `set_price` moves the price through it or it
is cancelled. Fees are charged in the asset received, at `fee_rate` (Binance's 0.1% by default).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from exchanges.emulator import market

FAULTS = (None, "maintenance", "rate_limited", "slow")
API_KEY_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
DEFAULT_BALANCES = {"USDT": "10000", "BTC": "0.5"}

# Withdrawal networks per coin: (network, fee, minimum), Binance-like figures. The first is the default.
WITHDRAW_NETWORKS: dict[str, tuple[tuple[str, Decimal, Decimal], ...]] = {
    asset: tuple((network, Decimal(fee), Decimal(minimum)) for network, fee, minimum in rows)
    for asset, rows in {
        "BTC": (("BTC", "0.0002", "0.001"),),
        "ETH": (("ETH", "0.0015", "0.01"), ("ARBITRUM", "0.0001", "0.001")),
        "BNB": (("BSC", "0.0005", "0.01"),),
        "SOL": (("SOL", "0.008", "0.1"),),
        "XRP": (("XRP", "0.2", "2"),),
        "ADA": (("ADA", "0.8", "2"),),
        "DOGE": (("DOGE", "4", "25"),),
        "AVAX": (("AVAXC", "0.008", "0.1"),),
        "DOT": (("DOT", "0.1", "1.5"),),
        "LINK": (("ETH", "0.3", "0.6"), ("BSC", "0.01", "0.05")),
        "USDT": (("ETH", "4", "10"), ("TRX", "1", "10"), ("BSC", "0.3", "10"), ("SOL", "1", "10")),
    }.items()
}
# Binance's withdrawal statuses (GET /sapi/v1/capital/withdraw/history).
WITHDRAWAL_PROCESSING, WITHDRAWAL_CANCELLED, WITHDRAWAL_FAILED, WITHDRAWAL_COMPLETED = 4, 1, 5, 6


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Account:
    """One exchange account; several keys may share it (a rotated key sees the same funds)."""

    uid: int
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        return self.free.get(asset, Decimal(0)), self.locked.get(asset, Decimal(0))

    def move(self, asset: str, *, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)) -> None:
        self.free[asset] = self.free.get(asset, Decimal(0)) + free
        self.locked[asset] = self.locked.get(asset, Decimal(0)) + locked


@dataclass
class ApiKey:
    api_key: str
    secret: str
    account: Account
    passphrase: str | None = None
    allowed_ips: tuple[str, ...] | None = None  # None: unrestricted
    can_withdraw: bool = False
    can_trade: bool = True
    created_ms: int = field(default_factory=now_ms)

    def allows_ip(self, ip: str) -> bool:
        return self.allowed_ips is None or ip in self.allowed_ips


@dataclass
class Trade:
    id: int
    order_id: int
    base: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool
    time: int

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty


@dataclass
class Order:
    id: int
    client_id: str
    account: Account
    base: str
    side: str  # BUY or SELL
    type: str  # MARKET or LIMIT
    time_in_force: str | None
    price: Decimal  # 0 for MARKET
    qty: Decimal
    time: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    quote_qty: Decimal = Decimal(0)  # cumulative quote of the fills
    update_time: int = 0
    orig_quote_qty: Decimal = Decimal(0)

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class Withdrawal:
    """One withdrawal as the exchange records it: `amount` left the account, `amount - fee` travels."""

    id: str
    account: Account
    coin: str
    network: str
    address: str
    tag: str
    amount: Decimal
    fee: Decimal
    client_id: str
    time: int
    status: int = WITHDRAWAL_PROCESSING
    txid: str = ""
    complete_time: int = 0


class WithdrawalRefused(Exception):
    """Raised by `ExchangeState.withdraw`; the exchange module turns `reason` into its error answer."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown_coin", "network_closed", "below_minimum", "not_above_fee", "insufficient"
        self.detail = detail


class OrderRejected(Exception):
    """Raised by the engine; each exchange module turns `reason` into its own error answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "insufficient_balance", "lot_size", "price_filter", "notional", "unknown_order"


class ExchangeState:
    def __init__(self, name: str, fee_rate: Decimal) -> None:
        self.name = name
        self.fee_rate = fee_rate
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.keys: dict[str, ApiKey] = {}
            self.accounts: dict[str, Account] = {}
            self.prices = market.initial_prices()
            self.days: dict[str, market.Candle] = {}  # per pair: its last 24 hours, when followed
            self.orders: dict[int, Order] = {}
            self.trades: list[Trade] = []
            self.fault: str | None = None
            self.fault_only: str | None = None  # "METHOD /path": the fault hits that call only
            self.slow_seconds = 5.0
            self.clock_offset_ms = 0
            self.limits: dict[str, dict[str, Decimal]] = {}  # per pair: min_qty, min_notional overrides
            self.withdrawals: list[Withdrawal] = []
            self._next_id = 1

    def server_time_ms(self) -> int:
        return now_ms() + self.clock_offset_ms

    def next_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    # Keys and accounts -------------------------------------------------------------------------

    def add_key(
        self,
        *,
        api_key: str,
        secret: str,
        passphrase: str | None,
        allowed_ips: list[str] | tuple[str, ...] | None,
        can_withdraw: bool,
        can_trade: bool,
        balances: dict[str, str | Decimal] | None,
        account: str | None,
    ) -> ApiKey:
        if not API_KEY_FORMAT.match(api_key):
            raise ValueError("api_key must be 1-128 characters of letters, digits, '-' or '_'")
        with self.lock:
            account_name = account or api_key
            owner = self.accounts.get(account_name)
            if owner is None:
                owner = self.accounts[account_name] = Account(uid=100_000_000 + len(self.accounts) + 1)
                for asset, amount in (DEFAULT_BALANCES if balances is None else balances).items():
                    owner.free[asset] = Decimal(str(amount))
            elif balances is not None:
                owner.free = {asset: Decimal(str(amount)) for asset, amount in balances.items()}
            key = ApiKey(
                api_key=api_key,
                secret=secret,
                account=owner,
                passphrase=passphrase,
                allowed_ips=None if allowed_ips is None else tuple(allowed_ips),
                can_withdraw=can_withdraw,
                can_trade=can_trade,
            )
            self.keys[api_key] = key
            return key

    def key(self, api_key: str) -> ApiKey | None:
        with self.lock:
            return self.keys.get(api_key)

    # Prices and the order engine ---------------------------------------------------------------

    def price(self, base: str) -> Decimal:
        with self.lock:
            return self.prices[base]

    def day(self, base: str) -> market.Candle:
        """The pair's last 24 hours for the tickers: the followed source's, else the snapshot's last day."""
        with self.lock:
            return self.days.get(base) or market.last_day(base)

    def set_day(self, base: str, day: market.Candle) -> None:
        """Move the pair to the close of `day`, whose open, high, low and volume the tickers show."""
        with self.lock:
            self.days[base] = day
            self.set_price(base, day.close)

    def set_price(self, base: str, price: Decimal) -> None:
        """Move the pair's price; resting LIMIT orders it reaches fill at their own price (maker)."""
        with self.lock:
            self.prices[base] = price
            for order in list(self.orders.values()):
                if order.base != base or not order.is_open or order.type != "LIMIT":
                    continue
                reached = price <= order.price if order.side == "BUY" else price >= order.price
                if reached:
                    self._release(order)
                    self._fill(order, order.price, is_maker=True)

    def place(
        self,
        account: Account,
        *,
        base: str,
        side: str,
        type: str,
        qty: Decimal | None,
        quote_qty: Decimal | None,
        price: Decimal | None,
        time_in_force: str | None,
        client_id: str,
    ) -> Order:
        rules = market.PAIRS[base]
        with self.lock:
            market_price = self.prices[base]
            if type == "MARKET" and qty is None and quote_qty is not None:
                qty = market.round_to(quote_qty / market_price, rules.step)
            assert qty is not None
            limits = self.limits.get(base, {})
            min_qty = limits.get("min_qty", rules.min_qty)
            min_notional = limits.get("min_notional", rules.min_notional)
            if qty < min_qty or qty > rules.max_qty or qty % rules.step:
                raise OrderRejected("lot_size")
            if price is not None and (price < rules.tick or price > rules.max_price or price % rules.tick):
                raise OrderRejected("price_filter")
            if qty * (price if type == "LIMIT" and price is not None else market_price) < min_notional:
                raise OrderRejected("notional")
            crosses = type == "MARKET" or (
                price is not None and (price >= market_price if side == "BUY" else price <= market_price)
            )
            fill_price = market_price if crosses else price
            assert fill_price is not None
            spend_asset, spend = (market.QUOTE, qty * fill_price) if side == "BUY" else (base, qty)
            if account.balance(spend_asset)[0] < spend:
                raise OrderRejected("insufficient_balance")
            timestamp = now_ms()
            order = Order(
                id=self.next_id(),
                client_id=client_id,
                account=account,
                base=base,
                side=side,
                type=type,
                time_in_force=time_in_force,
                price=price or Decimal(0),
                qty=qty,
                time=timestamp,
                update_time=timestamp,
                orig_quote_qty=quote_qty or Decimal(0),
            )
            self.orders[order.id] = order
            if crosses:
                self._fill(order, market_price, is_maker=False)
            elif time_in_force in ("IOC", "FOK"):
                order.status = "EXPIRED"
            else:
                account.move(spend_asset, free=-spend, locked=spend)
            return order

    def cancel(self, account: Account, order_id: int) -> Order:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None or order.account is not account or not order.is_open:
                raise OrderRejected("unknown_order")
            self._release(order)
            order.status = "CANCELED"
            order.update_time = now_ms()
            return order

    def orders_of(self, account: Account, base: str | None = None) -> list[Order]:
        with self.lock:
            return [o for o in self.orders.values() if o.account is account and (base is None or o.base == base)]

    def trades_of(self, account: Account, base: str) -> list[Trade]:
        with self.lock:
            mine = {o.id for o in self.orders.values() if o.account is account}
            return [t for t in self.trades if t.order_id in mine and t.base == base]

    def _release(self, order: Order) -> None:
        remaining = order.qty - order.executed_qty
        if order.side == "BUY":
            amount = remaining * order.price
            order.account.move(market.QUOTE, free=amount, locked=-amount)
        else:
            order.account.move(order.base, free=remaining, locked=-remaining)

    def _fill(self, order: Order, price: Decimal, *, is_maker: bool) -> None:
        qty = order.qty - order.executed_qty
        quote = qty * price
        if order.side == "BUY":
            commission, commission_asset = qty * self.fee_rate, order.base
            order.account.move(market.QUOTE, free=-quote)
            order.account.move(order.base, free=qty - commission)
        else:
            commission, commission_asset = quote * self.fee_rate, market.QUOTE
            order.account.move(order.base, free=-qty)
            order.account.move(market.QUOTE, free=quote - commission)
        timestamp = now_ms()
        self.trades.append(
            Trade(
                id=self.next_id(),
                order_id=order.id,
                base=order.base,
                side=order.side,
                price=price,
                qty=qty,
                commission=commission,
                commission_asset=commission_asset,
                is_maker=is_maker,
                time=timestamp,
            )
        )
        order.executed_qty += qty
        order.quote_qty += quote
        order.status = "FILLED"
        order.update_time = timestamp

    # Withdrawals and deposits -------------------------------------------------------------------

    def withdraw(
        self,
        account: Account,
        *,
        coin: str,
        network: str | None,
        address: str,
        tag: str,
        amount: Decimal,
        client_id: str,
    ) -> Withdrawal:
        """Debit `amount` (the fee included) from the free balance and record a processing withdrawal."""
        networks = WITHDRAW_NETWORKS.get(coin)
        if networks is None:
            raise WithdrawalRefused("unknown_coin")
        chosen = next((row for row in networks if row[0] == (network or networks[0][0])), None)
        if chosen is None:
            raise WithdrawalRefused("network_closed")
        _network, fee, minimum = chosen
        if amount < minimum:
            raise WithdrawalRefused("below_minimum", f"{minimum.normalize():f}")
        if amount <= fee:
            raise WithdrawalRefused("not_above_fee")
        with self.lock:
            if account.balance(coin)[0] < amount:
                raise WithdrawalRefused("insufficient")
            account.move(coin, free=-amount)
            withdrawal = Withdrawal(
                id=f"{self.next_id():032x}",
                account=account,
                coin=coin,
                network=chosen[0],
                address=address,
                tag=tag,
                amount=amount,
                fee=fee,
                client_id=client_id,
                time=now_ms(),
            )
            self.withdrawals.append(withdrawal)
            return withdrawal

    def withdrawals_of(self, account: Account) -> list[Withdrawal]:
        with self.lock:
            return [w for w in self.withdrawals if w.account is account]

    def settle_withdrawals(self, status: int = WITHDRAWAL_COMPLETED) -> list[Withdrawal]:
        """Finish every processing withdrawal: completed (with a txid) or failed/cancelled (refunded)."""
        with self.lock:
            settled = [w for w in self.withdrawals if w.status == WITHDRAWAL_PROCESSING]
            for withdrawal in settled:
                withdrawal.status = status
                withdrawal.complete_time = now_ms()
                if status == WITHDRAWAL_COMPLETED:
                    withdrawal.txid = f"0x{self.next_id():064x}"
                else:
                    withdrawal.account.move(withdrawal.coin, free=withdrawal.amount)
            return settled
