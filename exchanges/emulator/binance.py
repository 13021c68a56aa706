"""Binance spot, as ccxt's `binance` client sees it: paths, payloads, signature rules, error codes.

Payload shapes and error codes follow Binance's spot REST API. Signed endpoints check, in order:
the `X-MBX-APIKEY` header (-2014, HTTP 401), that the key exists and allows the caller's IP (-2015,
HTTP 401, naming the request IP as Binance now does), `timestamp` against `recvWindow` (-1021,
HTTP 400), the HMAC-SHA256 of query string + body (-1022, HTTP 400), then the key's permission for
the action (-2015). Futures exchangeInfo is served empty because ccxt's `load_markets()` asks for
spot, USDⓈ-M and COIN-M markets; this emulator lists spot pairs only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from exchanges.emulator import market
from exchanges.emulator.state import (
    API_KEY_FORMAT,
    WITHDRAW_NETWORKS,
    ApiKey,
    ExchangeState,
    Order,
    OrderRejected,
    Withdrawal,
    WithdrawalRefused,
)
from exchanges.emulator.wire import Request, Response

MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
REJECTIONS = {
    "lot_size": (-1013, "Filter failure: LOT_SIZE"),
    "price_filter": (-1013, "Filter failure: PRICE_FILTER"),
    "notional": (-1013, "Filter failure: NOTIONAL"),
    "insufficient_balance": (-2010, "Account has insufficient balance for requested action."),
    "unknown_order": (-2011, "Unknown order sent."),
}
WITHDRAWAL_REFUSALS = {
    "unknown_coin": (-4018, "We don't have this asset."),
    "network_closed": (-4019, "Current asset is not open for withdrawal."),
    "below_minimum": (-4022, "Not less than the minimum pick-up quantity {detail}."),
    "not_above_fee": (-4028, "The amount of withdrawal must be greater than the Commission."),
    "insufficient": (-4026, "You have insufficient balance."),
}


class BinanceError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.response = Response(status, {"code": code, "msg": msg})


def _d(value: Decimal) -> str:
    return f"{value:.8f}"


def _mandatory(name: str) -> BinanceError:
    return BinanceError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise _mandatory(name)
    return value


def _decimal(params: dict[str, str], name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.",
        )
    return value


def _pair(symbol: str | None) -> market.PairRules:
    if not symbol:
        raise _mandatory("symbol")
    base = symbol.removesuffix(market.QUOTE)
    if not symbol.endswith(market.QUOTE) or base not in market.PAIRS:
        raise BinanceError(400, -1121, "Invalid symbol.")
    return market.PAIRS[base]


def _pairs(params: dict[str, str]) -> list[market.PairRules] | None:
    """`symbol=BTCUSDT` or `symbols=["BTCUSDT","ETHUSDT"]`; None when neither was sent (all)."""
    if params.get("symbol"):
        return [_pair(params["symbol"])]
    if params.get("symbols"):
        try:
            names = json.loads(params["symbols"])
        except ValueError:
            raise BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.") from None
        return [_pair(name) for name in names]
    return None


class Binance:
    name = "binance"

    def __init__(self, state: ExchangeState) -> None:
        self.state = state
        public: dict[tuple[str, str], Callable[[Request], object]] = {
            ("GET", "/api/v3/ping"): lambda request: {},
            ("GET", "/api/v3/time"): lambda request: {"serverTime": self.state.server_time_ms()},
            ("GET", "/api/v3/exchangeInfo"): self.exchange_info,
            ("GET", "/api/v3/ticker/24hr"): self.ticker_24hr,
            ("GET", "/api/v3/ticker"): self.ticker_24hr,  # the rolling window: the same day here
            ("GET", "/api/v3/ticker/price"): self.ticker_price,
            ("GET", "/api/v3/ticker/bookTicker"): self.book_ticker,
            ("GET", "/api/v3/avgPrice"): self.avg_price,
            ("GET", "/api/v3/depth"): self.depth,
            ("GET", "/api/v3/klines"): self.klines,
            ("GET", "/sapi/v1/system/status"): lambda request: {"status": 0, "msg": "normal"},
            ("GET", "/fapi/v1/exchangeInfo"): self.empty_futures_info,
            ("GET", "/dapi/v1/exchangeInfo"): self.empty_futures_info,
        }
        signed: dict[tuple[str, str], tuple[Callable[[Request, ApiKey], object], bool]] = {
            # (handler, needs the trading permission)
            ("GET", "/api/v3/account"): (self.account, False),
            ("GET", "/sapi/v1/account/apiRestrictions"): (self.api_restrictions, False),
            ("GET", "/sapi/v1/capital/config/getall"): (self.coins, False),
            # margin pairs: ccxt asks for them in load_markets(); this emulator lists none
            ("GET", "/sapi/v1/margin/allPairs"): (lambda request, key: [], False),
            ("GET", "/sapi/v1/margin/isolated/allPairs"): (lambda request, key: [], False),
            ("POST", "/api/v3/order"): (self.order_create, True),
            ("GET", "/api/v3/order"): (self.order_get, False),
            ("DELETE", "/api/v3/order"): (self.order_cancel, True),
            ("GET", "/api/v3/openOrders"): (self.open_orders, False),
            ("GET", "/api/v3/allOrders"): (self.all_orders, False),
            ("GET", "/api/v3/myTrades"): (self.my_trades, False),
            ("POST", "/sapi/v1/capital/withdraw/apply"): (self.withdraw_apply, False),
            ("GET", "/sapi/v1/capital/withdraw/history"): (self.withdraw_history, False),
            ("GET", "/sapi/v1/capital/deposit/address"): (self.deposit_address, False),
        }
        self.public = public
        self.signed = signed

    # Dispatch ----------------------------------------------------------------------------------

    def knows(self, request: Request) -> bool:
        route = (request.method, request.path)
        return route in self.public or route in self.signed

    def handle(self, request: Request) -> Response:
        route = (request.method, request.path)
        try:
            if route in self.public:
                return Response(200, self.public[route](request))
            if route in self.signed:
                handler, trades = self.signed[route]
                key = self.authenticate(request)
                if trades and not key.can_trade:
                    raise self.invalid_key(request)
                return Response(200, handler(request, key))
        except BinanceError as error:
            return error.response
        return Response(404)  # Binance answers an unknown path with an empty 404

    def fault(self, fault: str) -> Response:
        if fault == "maintenance":
            return Response(503, {"code": 1, "msg": "System is under maintenance."})
        msg = (
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API."
        )
        return Response(429, {"code": -1003, "msg": msg}, {"Retry-After": "60"})

    # Authentication ----------------------------------------------------------------------------

    @staticmethod
    def invalid_key(request: Request) -> BinanceError:
        msg = f"Invalid API-key, IP, or permissions for action, request ip: {request.client_ip}"
        return BinanceError(401, -2015, msg)

    def authenticate(self, request: Request) -> ApiKey:
        api_key = request.headers.get("X-MBX-APIKEY") or ""
        if not API_KEY_FORMAT.match(api_key):
            raise BinanceError(401, -2014, "API-key format invalid.")
        key = self.state.key(api_key)
        if key is None or not key.allows_ip(request.client_ip):
            raise self.invalid_key(request)
        params = request.params
        timestamp = _required(params, "timestamp")
        recv_window = params.get("recvWindow") or str(DEFAULT_RECV_WINDOW_MS)
        if not timestamp.isdigit() or not recv_window.isdigit():
            raise BinanceError(400, -1100, "Illegal characters found in a parameter.")
        if int(recv_window) > MAX_RECV_WINDOW_MS:
            raise BinanceError(400, -1131, "recvWindow must be less than 60000")
        server_time = self.state.server_time_ms()
        if int(timestamp) > server_time + 1000:
            raise BinanceError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if server_time - int(timestamp) > int(recv_window):
            raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        signature = _required(params, "signature")
        payload = _without_signature(request.query) + _without_signature(request.body.decode("utf-8", "replace"))
        expected = hmac.new(key.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        return key

    # Public market data ------------------------------------------------------------------------

    def exchange_info(self, request: Request) -> dict:
        pairs = _pairs(request.params) or list(market.PAIRS.values())
        return {
            "timezone": "UTC",
            "serverTime": self.state.server_time_ms(),
            "rateLimits": RATE_LIMITS,
            "exchangeFilters": [],
            "symbols": [self._symbol_info(rules) for rules in pairs],
        }

    def empty_futures_info(self, request: Request) -> dict:
        return {
            "timezone": "UTC",
            "serverTime": self.state.server_time_ms(),
            "rateLimits": [],
            "assets": [],
            "symbols": [],
        }

    @staticmethod
    def _symbol_info(rules: market.PairRules) -> dict:
        return {
            "symbol": rules.binance_symbol,
            "status": "TRADING",
            "baseAsset": rules.base,
            "baseAssetPrecision": 8,
            "quoteAsset": market.QUOTE,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True,
            "ocoAllowed": True,
            "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True,
            "cancelReplaceAllowed": True,
            "amendAllowed": True,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _d(rules.tick),
                    "maxPrice": _d(rules.max_price),
                    "tickSize": _d(rules.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _d(rules.min_qty),
                    "maxQty": _d(rules.max_qty),
                    "stepSize": _d(rules.step),
                },
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": _d(Decimal(0)),
                    "maxQty": _d(rules.max_qty),
                    "stepSize": _d(Decimal(0)),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": _d(rules.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": _d(Decimal(9_000_000)),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _ticker(self, rules: market.PairRules) -> dict:
        day = self.state.day(rules.base)
        price = self.state.price(rules.base)
        bids, asks = market.book_levels(rules.base, price, 1)
        now = self.state.server_time_ms()
        change = price - day.open
        return {
            "symbol": rules.binance_symbol,
            "priceChange": _d(change),
            "priceChangePercent": f"{(change / day.open * 100):.3f}",
            "weightedAvgPrice": _d(day.quote_volume / day.volume),
            "prevClosePrice": _d(day.open),
            "lastPrice": _d(price),
            "lastQty": _d(rules.step),
            "bidPrice": _d(bids[0][0]),
            "bidQty": _d(bids[0][1]),
            "askPrice": _d(asks[0][0]),
            "askQty": _d(asks[0][1]),
            "openPrice": _d(day.open),
            "highPrice": _d(max(day.high, price)),
            "lowPrice": _d(min(day.low, price)),
            "volume": _d(day.volume),
            "quoteVolume": _d(day.quote_volume),
            "openTime": now - market.DAY_MS,
            "closeTime": now,
            "firstId": 1,
            "lastId": 1000,
            "count": 1000,
        }

    def ticker_24hr(self, request: Request) -> object:
        pairs = _pairs(request.params)
        if pairs is not None and request.params.get("symbol"):
            return self._ticker(pairs[0])
        return [self._ticker(rules) for rules in pairs or market.PAIRS.values()]

    def ticker_price(self, request: Request) -> object:
        pairs = _pairs(request.params)
        answers = [
            {"symbol": rules.binance_symbol, "price": _d(self.state.price(rules.base))}
            for rules in pairs or market.PAIRS.values()
        ]
        return answers[0] if request.params.get("symbol") else answers

    def book_ticker(self, request: Request) -> object:
        pairs = _pairs(request.params)
        answers = []
        for rules in pairs or market.PAIRS.values():
            ticker = self._ticker(rules)
            answers.append({field: ticker[field] for field in ("symbol", "bidPrice", "bidQty", "askPrice", "askQty")})
        return answers[0] if request.params.get("symbol") else answers

    def avg_price(self, request: Request) -> dict:
        rules = _pair(request.params.get("symbol"))
        return {"mins": 5, "price": _d(self.state.price(rules.base)), "closeTime": self.state.server_time_ms()}

    def depth(self, request: Request) -> dict:
        rules = _pair(request.params.get("symbol"))
        limit = min(int(request.params.get("limit") or 100), 5000)
        bids, asks = market.book_levels(rules.base, self.state.price(rules.base), limit)
        return {
            "lastUpdateId": self.state.next_id(),
            "bids": [[_d(price), _d(qty)] for price, qty in bids],
            "asks": [[_d(price), _d(qty)] for price, qty in asks],
        }

    def klines(self, request: Request) -> list:
        params = request.params
        rules = _pair(params.get("symbol"))
        interval = _required(params, "interval")
        if interval not in market.INTERVAL_MS:
            raise BinanceError(400, -1120, "Invalid interval.")
        start = int(params["startTime"]) if params.get("startTime") else None
        end = int(params["endTime"]) if params.get("endTime") else None
        limit = min(int(params.get("limit") or 500), 1000)
        step = market.INTERVAL_MS[interval]
        return [
            [
                c.open_time,
                _d(c.open),
                _d(c.high),
                _d(c.low),
                _d(c.close),
                _d(c.volume),
                c.open_time + step - 1,
                _d(c.quote_volume),
                100,
                _d(c.volume / 2),
                _d(c.quote_volume / 2),
                "0",
            ]
            for c in market.candles(rules.base, interval, start, end, limit)
        ]

    # Account -----------------------------------------------------------------------------------

    def account(self, request: Request, key: ApiKey) -> dict:
        with self.state.lock:
            assets = list(dict.fromkeys([*market.ASSETS, *key.account.free, *key.account.locked]))
            balances = [
                {"asset": asset, "free": _d(free), "locked": _d(locked)}
                for asset in assets
                for free, locked in [key.account.balance(asset)]
            ]
        if request.params.get("omitZeroBalances") == "true":
            balances = [b for b in balances if Decimal(b["free"]) or Decimal(b["locked"])]
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.state.server_time_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": key.account.uid,
        }

    def api_restrictions(self, request: Request, key: ApiKey) -> dict:
        return {
            "ipRestrict": key.allowed_ips is not None,
            "createTime": key.created_ms,
            "enableReading": True,
            "enableSpotAndMarginTrading": key.can_trade,
            "enableWithdrawals": key.can_withdraw,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": False,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
        }

    def coins(self, request: Request, key: ApiKey) -> list:
        answers = []
        for asset in market.ASSETS:
            free, locked = key.account.balance(asset)
            name = market.PAIRS[asset].name if asset in market.PAIRS else "TetherUS"
            networks = [
                {
                    "network": network,
                    "coin": asset,
                    "name": network,
                    "isDefault": index == 0,
                    "depositEnable": True,
                    "withdrawEnable": True,
                    "withdrawFee": _d(fee),
                    "withdrawMin": _d(minimum),
                    "withdrawMax": "9999999999",
                    "withdrawIntegerMultiple": "0.00000001",
                    "minConfirm": 1,
                    "busy": False,
                }
                for index, (network, fee, minimum) in enumerate(WITHDRAW_NETWORKS.get(asset, ((asset, 0, 0),)))
            ]
            answers.append(
                {
                    "coin": asset,
                    "name": name,
                    "depositAllEnable": True,
                    "withdrawAllEnable": True,
                    "free": _d(free),
                    "locked": _d(locked),
                    "freeze": "0",
                    "withdrawing": "0",
                    "ipoing": "0",
                    "ipoable": "0",
                    "storage": "0",
                    "isLegalMoney": False,
                    "trading": True,
                    "networkList": networks,
                }
            )
        return answers

    # Withdrawals and deposits ------------------------------------------------------------------

    @staticmethod
    def not_authorized() -> BinanceError:
        """A key without "Enable Withdrawals" asking to withdraw."""
        return BinanceError(401, -1002, "You are not authorized to execute this request.")

    def withdraw_apply(self, request: Request, key: ApiKey) -> dict:
        if not key.can_withdraw:
            raise self.not_authorized()
        params = request.params
        coin = _required(params, "coin")
        address = _required(params, "address")
        amount = _decimal(params, "amount")
        if amount is None:
            raise _mandatory("amount")
        try:
            withdrawal = self.state.withdraw(
                key.account,
                coin=coin,
                network=params.get("network") or None,
                address=address,
                tag=params.get("addressTag") or "",
                amount=amount,
                client_id=params.get("withdrawOrderId") or "",
            )
        except WithdrawalRefused as refused:
            code, msg = WITHDRAWAL_REFUSALS[refused.reason]
            raise BinanceError(400, code, msg.format(detail=refused.detail)) from None
        return {"id": withdrawal.id}

    def withdraw_history(self, request: Request, key: ApiKey) -> list:
        params = request.params
        rows = self.state.withdrawals_of(key.account)
        if params.get("coin"):
            rows = [w for w in rows if w.coin == params["coin"]]
        if params.get("withdrawOrderId"):
            rows = [w for w in rows if w.client_id == params["withdrawOrderId"]]
        if params.get("status"):
            rows = [w for w in rows if str(w.status) == params["status"]]
        if params.get("startTime"):
            rows = [w for w in rows if w.time >= int(params["startTime"])]
        if params.get("endTime"):
            rows = [w for w in rows if w.time <= int(params["endTime"])]
        rows = sorted(rows, key=lambda w: w.time, reverse=True)[: min(int(params.get("limit") or 1000), 1000)]
        return [self._withdrawal(w) for w in rows]

    @staticmethod
    def _withdrawal(w: Withdrawal) -> dict:
        answer = {
            "id": w.id,
            "amount": _d(w.amount - w.fee),  # what travels; the fee is on top, as Binance reports it
            "transactionFee": _d(w.fee),
            "coin": w.coin,
            "status": w.status,
            "address": w.address,
            "txId": w.txid,
            "applyTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(w.time / 1000)),
            "network": w.network,
            "transferType": 0,
            "info": "",
            "confirmNo": 1 if w.txid else 0,
            "walletType": 0,
            "txKey": "",
        }
        if w.tag:
            answer["addressTag"] = w.tag
        if w.client_id:
            answer["withdrawOrderId"] = w.client_id
        if w.complete_time:
            answer["completeTime"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(w.complete_time / 1000))
        return answer

    def deposit_address(self, request: Request, key: ApiKey) -> dict:
        params = request.params
        coin = _required(params, "coin")
        networks = WITHDRAW_NETWORKS.get(coin)
        if networks is None:
            raise BinanceError(400, -4018, "We don't have this asset.")
        network = params.get("network") or networks[0][0]
        if network not in {row[0] for row in networks}:
            raise BinanceError(400, -4019, "Current asset is not open for deposit.")
        digest = hashlib.sha256(f"{key.account.uid}:{coin}:{network}".encode()).hexdigest()
        tag = str(int(digest[:8], 16) % 10**9) if network == "XRP" else ""
        return {"coin": coin, "address": _deposit_address(network, digest), "tag": tag, "url": ""}

    # Orders ------------------------------------------------------------------------------------

    def order_create(self, request: Request, key: ApiKey) -> dict:
        params = request.params
        rules = _pair(params.get("symbol"))
        side = _required(params, "side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1117, "Invalid side.")
        order_type = _required(params, "type")
        if order_type not in ("MARKET", "LIMIT"):
            raise BinanceError(400, -1116, "Invalid orderType.")
        qty, quote_qty, price = _decimal(params, "quantity"), _decimal(params, "quoteOrderQty"), None
        time_in_force = None
        if order_type == "MARKET" and qty is None and quote_qty is None:
            raise BinanceError(
                400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
            )
        if order_type == "LIMIT":
            time_in_force = _required(params, "timeInForce")
            if qty is None:
                raise _mandatory("quantity")
            price = _decimal(params, "price")
            if price is None:
                raise _mandatory("price")
        try:
            order = self.state.place(
                key.account,
                base=rules.base,
                side=side,
                type=order_type,
                qty=qty,
                quote_qty=quote_qty,
                price=price,
                time_in_force=time_in_force,
                client_id=params.get("newClientOrderId") or f"emu{self.state.next_id()}",
            )
        except OrderRejected as rejected:
            code, msg = REJECTIONS[rejected.reason]
            raise BinanceError(400, code, msg) from None
        answer = {
            "symbol": rules.binance_symbol,
            "orderId": order.id,
            "orderListId": -1,
            "clientOrderId": order.client_id,
            "transactTime": order.time,
        }
        response_type = params.get("newOrderRespType") or "FULL"
        if response_type in ("RESULT", "FULL"):
            answer |= self._order(order)
            for field in ("time", "updateTime", "isWorking", "stopPrice", "icebergQty"):
                answer.pop(field)
        if response_type == "FULL":
            answer["fills"] = [
                {
                    "price": _d(t.price),
                    "qty": _d(t.qty),
                    "commission": _d(t.commission),
                    "commissionAsset": t.commission_asset,
                    "tradeId": t.id,
                }
                for t in self.state.trades_of(key.account, rules.base)
                if t.order_id == order.id
            ]
        return answer

    def _find(self, request: Request, key: ApiKey, missing: tuple[int, str]) -> Order:
        params = request.params
        rules = _pair(params.get("symbol"))
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not order_id and not client_id:
            raise BinanceError(
                400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        for order in self.state.orders_of(key.account, rules.base):
            if (order_id and str(order.id) == order_id) or (not order_id and order.client_id == client_id):
                return order
        raise BinanceError(400, *missing)

    def order_get(self, request: Request, key: ApiKey) -> dict:
        return self._order(self._find(request, key, (-2013, "Order does not exist.")))

    def order_cancel(self, request: Request, key: ApiKey) -> dict:
        order = self._find(request, key, REJECTIONS["unknown_order"])
        try:
            order = self.state.cancel(key.account, order.id)
        except OrderRejected:
            raise BinanceError(400, *REJECTIONS["unknown_order"]) from None
        answer = self._order(order)
        for field in ("time", "updateTime", "isWorking", "workingTime", "stopPrice", "icebergQty", "origQuoteOrderQty"):
            answer.pop(field)
        answer["origClientOrderId"] = order.client_id
        answer["transactTime"] = order.update_time
        return answer

    def open_orders(self, request: Request, key: ApiKey) -> list:
        base = _pair(request.params["symbol"]).base if request.params.get("symbol") else None
        return [self._order(order) for order in self.state.orders_of(key.account, base) if order.is_open]

    def all_orders(self, request: Request, key: ApiKey) -> list:
        rules = _pair(request.params.get("symbol"))
        return [self._order(order) for order in self.state.orders_of(key.account, rules.base)]

    def my_trades(self, request: Request, key: ApiKey) -> list:
        params = request.params
        rules = _pair(params.get("symbol"))
        trades = self.state.trades_of(key.account, rules.base)
        if params.get("orderId"):
            trades = [t for t in trades if str(t.order_id) == params["orderId"]]
        return [
            {
                "symbol": rules.binance_symbol,
                "id": t.id,
                "orderId": t.order_id,
                "orderListId": -1,
                "price": _d(t.price),
                "qty": _d(t.qty),
                "quoteQty": _d(t.quote_qty),
                "commission": _d(t.commission),
                "commissionAsset": t.commission_asset,
                "time": t.time,
                "isBuyer": t.side == "BUY",
                "isMaker": t.is_maker,
                "isBestMatch": True,
            }
            for t in trades[-int(params.get("limit") or 500) :]
        ]

    @staticmethod
    def _order(order: Order) -> dict:
        return {
            "symbol": f"{order.base}{market.QUOTE}",
            "orderId": order.id,
            "orderListId": -1,
            "clientOrderId": order.client_id,
            "price": _d(order.price),
            "origQty": _d(order.qty),
            "executedQty": _d(order.executed_qty),
            "cummulativeQuoteQty": _d(order.quote_qty),
            "status": order.status,
            "timeInForce": order.time_in_force or "GTC",
            "type": order.type,
            "side": order.side,
            "stopPrice": _d(Decimal(0)),
            "icebergQty": _d(Decimal(0)),
            "time": order.time,
            "updateTime": order.update_time,
            "isWorking": True,
            "workingTime": order.time,
            "origQuoteOrderQty": _d(order.orig_quote_qty),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


def _deposit_address(network: str, digest: str) -> str:
    """A stable, plausible-looking address for the account on `network` (not a real wallet)."""
    if network in ("ETH", "BSC", "ARBITRUM", "AVAXC"):
        return "0x" + digest[:40]
    if network == "TRX":
        return "T" + digest[:33]
    if network == "XRP":
        return "r" + digest[:33]
    if network == "BTC":
        return "bc1q" + digest[:38]
    return network.lower() + digest[:40]


def _without_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))
