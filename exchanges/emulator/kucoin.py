"""KuCoin spot, as ccxt's `kucoin` client sees it: market data, the account balances and orders.

KuCoin is the project's passphrase exchange. Private endpoints check KuCoin's v2 key scheme:
`KC-API-KEY`, `KC-API-TIMESTAMP` (within 5 s of the server), `KC-API-PASSPHRASE` (base64
HMAC-SHA256 of the passphrase under the secret, so a wrong secret already fails here, as on KuCoin)
and `KC-API-SIGN` (base64 HMAC-SHA256 of timestamp + method + path with query + body). Errors use
KuCoin's own codes and texts (400001 to 400006, HTTP 401). Futures and margin endpoints that ccxt's
`load_markets()` asks for are served empty: the emulator lists spot pairs only.

Orders use KuCoin's classic spot endpoints (the account has no high-frequency account, so ccxt picks
them): placing answers with the order id only, as KuCoin does; the order, its fills and cancelling
are read by id or by `clientOid`. Business refusals come back with HTTP 200 and KuCoin's code
(200004 insufficient balance, 400100 with the rule broken), as on KuCoin.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from exchanges.emulator import market
from exchanges.emulator.state import ApiKey, ExchangeState, Order, OrderRejected
from exchanges.emulator.wire import Request, Response

TIMESTAMP_TOLERANCE_MS = 5_000
REJECTIONS = {
    "insufficient_balance": ("200004", "Balance insufficient!"),
    "lot_size": ("400100", "Order size increment invalid."),
    "price_filter": ("400100", "Price increment invalid."),
    "notional": ("400100", "Order funds below the minimum requirement."),
    "unknown_order": ("400100", "order_not_exist_or_not_allow_to_cancel"),
}
HEADERS = ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE")


class KucoinError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.response = Response(status, {"code": code, "msg": msg})


def _ok(data: object) -> dict:
    return {"code": "200000", "data": data}


def _b64_hmac(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


def _pair(symbol: str | None) -> market.PairRules:
    base, _, quote = (symbol or "").partition("-")
    if quote != market.QUOTE or base not in market.PAIRS:
        raise KucoinError(400, "400100", "Unsupported trading pair.")
    return market.PAIRS[base]


class Kucoin:
    name = "kucoin"

    def __init__(self, state: ExchangeState) -> None:
        self.state = state
        self.public: dict[tuple[str, str], Callable[[Request], object]] = {
            ("GET", "/api/v1/timestamp"): lambda request: self.state.server_time_ms(),
            ("GET", "/api/v1/status"): lambda request: {"status": "open", "msg": ""},
            ("GET", "/api/v2/symbols"): self.symbols,
            ("GET", "/api/v3/currencies"): self.currencies,
            ("GET", "/api/v1/market/allTickers"): self.all_tickers,
            ("GET", "/api/v1/market/stats"): self.stats,
            ("GET", "/api/v1/market/orderbook/level1"): self.level1,
            ("GET", "/api/v1/market/orderbook/level2_20"): lambda request: self.book(request, 20),
            ("GET", "/api/v1/market/orderbook/level2_100"): lambda request: self.book(request, 100),
            ("GET", "/api/v1/contracts/active"): lambda request: [],  # futures: none listed
        }
        self.private: dict[tuple[str, str], Callable[[Request, ApiKey], object]] = {
            ("GET", "/api/v1/accounts"): self.accounts,
            ("GET", "/api/v1/hf/accounts/opened"): lambda request, key: False,
            ("GET", "/api/ua/v1/account/mode"): lambda request, key: {"selfAccountMode": "CLASSIC"},
            ("GET", "/api/v3/margin/symbols"): lambda request, key: {
                "timestamp": self.state.server_time_ms(),
                "items": [],
            },
            ("GET", "/api/v1/isolated/symbols"): lambda request, key: [],
            ("GET", "/api/v3/market/orderbook/level2"): lambda request, key: self.book(request, 500),
            ("GET", "/api/v1/user/api-key"): self.api_key_info,
            ("POST", "/api/v1/orders"): self.order_create,
            ("GET", "/api/v1/orders"): self.orders_list,
            ("GET", "/api/v1/fills"): self.fills,
        }
        # Paths that carry an id: (method, pattern, handler(request, key, id)).
        self.private_with_id: list[tuple[str, re.Pattern[str], Callable[[Request, ApiKey, str], object]]] = [
            ("GET", re.compile(r"^/api/v1/orders/([^/]+)$"), self.order_get),
            ("GET", re.compile(r"^/api/v1/order/client-order/([^/]+)$"), self.order_get_by_client_id),
            ("DELETE", re.compile(r"^/api/v1/orders/([^/]+)$"), self.order_cancel),
            ("DELETE", re.compile(r"^/api/v1/order/client-order/([^/]+)$"), self.order_cancel_by_client_id),
        ]

    def _with_id(self, request: Request) -> tuple[Callable[[Request, ApiKey, str], object], str] | None:
        for method, pattern, handler in self.private_with_id:
            if method == request.method and (match := pattern.match(request.path)):
                return handler, match.group(1)
        return None

    def knows(self, request: Request) -> bool:
        route = (request.method, request.path)
        return route in self.public or route in self.private or self._with_id(request) is not None

    def handle(self, request: Request) -> Response:
        route = (request.method, request.path)
        try:
            if route in self.public:
                return Response(200, _ok(self.public[route](request)))
            if route in self.private:
                key = self.authenticate(request)
                return Response(200, _ok(self.private[route](request, key)))
            if (found := self._with_id(request)) is not None:
                handler, ident = found
                key = self.authenticate(request)
                return Response(200, _ok(handler(request, key, ident)))
        except KucoinError as error:
            return error.response
        return Response(404, {"code": "404000", "msg": "Not Found"})

    def fault(self, fault: str) -> Response:
        if fault == "maintenance":
            return Response(503, {"code": "503000", "msg": "Service Unavailable"})
        msg = "Too many requests in a short period of time, please retry later."
        return Response(429, {"code": "429000", "msg": msg})

    # Authentication ----------------------------------------------------------------------------

    def authenticate(self, request: Request) -> ApiKey:
        headers = {name: request.headers.get(name) or "" for name in HEADERS}
        if not all(headers.values()):
            raise KucoinError(401, "400001", "Please check the header of your request for " + ", ".join(HEADERS))
        timestamp = headers["KC-API-TIMESTAMP"]
        if not timestamp.isdigit() or abs(self.state.server_time_ms() - int(timestamp)) > TIMESTAMP_TOLERANCE_MS:
            raise KucoinError(
                401, "400002", "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds"
            )
        key = self.state.key(headers["KC-API-KEY"])
        if key is None or key.passphrase is None:
            raise KucoinError(401, "400003", "KC-API-KEY not exists")
        version = request.headers.get("KC-API-KEY-VERSION") or "1"
        expected_passphrase = key.passphrase if version == "1" else _b64_hmac(key.secret, key.passphrase)
        if not hmac.compare_digest(expected_passphrase, headers["KC-API-PASSPHRASE"]):
            raise KucoinError(401, "400004", "Invalid KC-API-PASSPHRASE")
        payload = timestamp + request.method + request.path_with_query + request.body.decode("utf-8", "replace")
        if not hmac.compare_digest(_b64_hmac(key.secret, payload), headers["KC-API-SIGN"]):
            raise KucoinError(401, "400005", "Invalid KC-API-SIGN")
        if not key.allows_ip(request.client_ip):
            raise KucoinError(401, "400006", f"Invalid request ip, the current clientIp is:{request.client_ip}")
        return key

    # Market data -------------------------------------------------------------------------------

    def symbols(self, request: Request) -> list:
        return [
            {
                "symbol": rules.kucoin_symbol,
                "name": rules.kucoin_symbol,
                "baseCurrency": rules.base,
                "quoteCurrency": market.QUOTE,
                "feeCurrency": market.QUOTE,
                "market": "USDS",
                "baseMinSize": _num(rules.min_qty),
                "quoteMinSize": "0.1",
                "baseMaxSize": "10000000000",
                "quoteMaxSize": "99999999",
                "baseIncrement": _num(rules.step),
                "quoteIncrement": _num(rules.tick),
                "priceIncrement": _num(rules.tick),
                "priceLimitRate": "0.1",
                "minFunds": "0.1",
                "isMarginEnabled": False,
                "enableTrading": True,
                "feeCategory": 1,
                "makerFeeCoefficient": "1.00",
                "takerFeeCoefficient": "1.00",
                "st": False,
            }
            for rules in market.PAIRS.values()
        ]

    def currencies(self, request: Request) -> list:
        answers = []
        for asset in market.ASSETS:
            name = market.PAIRS[asset].name if asset in market.PAIRS else "Tether"
            chain = {
                "chainName": asset if asset != market.QUOTE else "ERC20",
                "chainId": asset.lower() if asset != market.QUOTE else "eth",
                "withdrawalMinSize": "0",
                "depositMinSize": "0",
                "withdrawFeeRate": "0",
                "withdrawalMinFee": "0",
                "isWithdrawEnabled": True,
                "isDepositEnabled": True,
                "confirms": 1,
                "preConfirms": 1,
                "contractAddress": "",
                "withdrawPrecision": 8,
                "needTag": False,
            }
            answers.append(
                {
                    "currency": asset,
                    "name": asset,
                    "fullName": name,
                    "precision": 8,
                    "confirms": None,
                    "contractAddress": None,
                    "isMarginEnabled": False,
                    "isDebitEnabled": False,
                    "chains": [chain],
                }
            )
        return answers

    def _ticker(self, rules: market.PairRules) -> dict:
        day = self.state.day(rules.base)
        price = self.state.price(rules.base)
        bids, asks = market.book_levels(rules.base, price, 1)
        change = price - day.open
        return {
            "symbol": rules.kucoin_symbol,
            "symbolName": rules.kucoin_symbol,
            "buy": _num(bids[0][0]),
            "bestBidSize": _num(bids[0][1]),
            "sell": _num(asks[0][0]),
            "bestAskSize": _num(asks[0][1]),
            "changeRate": f"{change / day.open:.4f}",
            "changePrice": _num(change),
            "high": _num(max(day.high, price)),
            "low": _num(min(day.low, price)),
            "vol": _num(day.volume),
            "volValue": _num(day.quote_volume),
            "last": _num(price),
            "averagePrice": _num((day.quote_volume / day.volume).quantize(rules.tick)),
            "takerFeeRate": "0.001",
            "makerFeeRate": "0.001",
            "takerCoefficient": "1",
            "makerCoefficient": "1",
        }

    def all_tickers(self, request: Request) -> dict:
        tickers = [self._ticker(rules) for rules in market.PAIRS.values()]
        return {"time": self.state.server_time_ms(), "ticker": tickers}

    def stats(self, request: Request) -> dict:
        ticker = self._ticker(_pair(request.params.get("symbol")))
        return {"time": self.state.server_time_ms(), **ticker}

    def level1(self, request: Request) -> dict:
        rules = _pair(request.params.get("symbol"))
        ticker = self._ticker(rules)
        return {
            "time": self.state.server_time_ms(),
            "sequence": str(self.state.next_id()),
            "price": ticker["last"],
            "size": _num(rules.step),
            "bestBid": ticker["buy"],
            "bestBidSize": ticker["bestBidSize"],
            "bestAsk": ticker["sell"],
            "bestAskSize": ticker["bestAskSize"],
        }

    def book(self, request: Request, depth: int) -> dict:
        rules = _pair(request.params.get("symbol"))
        bids, asks = market.book_levels(rules.base, self.state.price(rules.base), depth)
        return {
            "time": self.state.server_time_ms(),
            "sequence": str(self.state.next_id()),
            "bids": [[_num(price), _num(qty)] for price, qty in bids],
            "asks": [[_num(price), _num(qty)] for price, qty in asks],
        }

    # Account -----------------------------------------------------------------------------------

    def accounts(self, request: Request, key: ApiKey) -> list:
        params = request.params
        if params.get("type") not in (None, "", "trade"):
            return []  # every emulated balance sits in the trading account
        answers = []
        with self.state.lock:
            for asset in dict.fromkeys([*key.account.free, *key.account.locked]):
                if params.get("currency") and params["currency"] != asset:
                    continue
                free, locked = key.account.balance(asset)
                answers.append(
                    {
                        "id": hashlib.sha256(f"{key.account.uid}:{asset}".encode()).hexdigest()[:24],
                        "currency": asset,
                        "type": "trade",
                        "balance": _num(free + locked),
                        "available": _num(free),
                        "holds": _num(locked),
                    }
                )
        return answers

    def api_key_info(self, request: Request, key: ApiKey) -> dict:
        permissions = ["General", *(["Spot"] if key.can_trade else []), *(["Withdrawal"] if key.can_withdraw else [])]
        return {
            "remark": "emulator key",
            "apiKey": key.api_key,
            "apiVersion": 3,
            "permission": ",".join(permissions),
            "ipWhitelist": ",".join(key.allowed_ips or ()),
            "isMaster": True,
            "uid": key.account.uid,
            "createdAt": key.created_ms,
        }

    # Orders ------------------------------------------------------------------------------------

    def order_create(self, request: Request, key: ApiKey) -> dict:
        if not key.can_trade:
            raise KucoinError(403, "400007", "Access denied, require more permission.")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise KucoinError(400, "400100", "Invalid request body.") from None
        rules = _pair(body.get("symbol"))
        side, order_type = body.get("side"), body.get("type") or "limit"
        if side not in ("buy", "sell"):
            raise KucoinError(400, "400100", "side not in the given range!")
        if order_type not in ("market", "limit"):
            raise KucoinError(400, "400100", "type not in the given range!")
        size, funds, price = _amount(body, "size"), _amount(body, "funds"), _amount(body, "price")
        if order_type == "limit" and (size is None or price is None):
            raise KucoinError(400, "400100", "Parameter size and price are required for a limit order.")
        if order_type == "market" and (size is None) == (funds is None):
            raise KucoinError(400, "400100", "Either size or funds is required for a market order.")
        time_in_force = (body.get("timeInForce") or "GTC").upper()
        try:
            order = self.state.place(
                key.account,
                base=rules.base,
                side=side.upper(),
                type=order_type.upper(),
                qty=size,
                quote_qty=funds,
                price=price if order_type == "limit" else None,
                time_in_force=time_in_force if order_type == "limit" else None,
                client_id=str(body.get("clientOid") or f"emu{self.state.next_id()}"),
            )
        except OrderRejected as rejected:
            code, msg = REJECTIONS[rejected.reason]
            raise KucoinError(200, code, msg) from None
        return {"orderId": str(order.id)}

    def _find(self, key: ApiKey, *, order_id: str | None = None, client_id: str | None = None) -> Order:
        for order in self.state.orders_of(key.account):
            if (order_id is not None and str(order.id) == order_id) or (
                client_id is not None and order.client_id == client_id
            ):
                return order
        raise KucoinError(404, "400100", "order not exist.")

    def order_get(self, request: Request, key: ApiKey, order_id: str) -> dict:
        return self._order(self._find(key, order_id=order_id))

    def order_get_by_client_id(self, request: Request, key: ApiKey, client_id: str) -> dict:
        return self._order(self._find(key, client_id=client_id))

    def _cancel(self, key: ApiKey, order: Order) -> Order:
        try:
            return self.state.cancel(key.account, order.id)
        except OrderRejected:
            raise KucoinError(200, *REJECTIONS["unknown_order"]) from None

    def order_cancel(self, request: Request, key: ApiKey, order_id: str) -> dict:
        order = self._cancel(key, self._find(key, order_id=order_id))
        return {"cancelledOrderIds": [str(order.id)]}

    def order_cancel_by_client_id(self, request: Request, key: ApiKey, client_id: str) -> dict:
        order = self._cancel(key, self._find(key, client_id=client_id))
        return {"cancelledOrderId": str(order.id), "clientOid": order.client_id}

    def orders_list(self, request: Request, key: ApiKey) -> dict:
        params = request.params
        orders = self.state.orders_of(key.account)
        if params.get("symbol"):
            base = _pair(params["symbol"]).base
            orders = [o for o in orders if o.base == base]
        if params.get("status") == "active":
            orders = [o for o in orders if o.is_open]
        elif params.get("status") == "done":
            orders = [o for o in orders if not o.is_open]
        return _page([self._order(order) for order in orders])

    def fills(self, request: Request, key: ApiKey) -> dict:
        params = request.params
        with self.state.lock:
            orders = {o.id: o for o in self.state.orders.values() if o.account is key.account}
            trades = [t for t in self.state.trades if t.order_id in orders]
        if params.get("orderId"):
            trades = [t for t in trades if str(t.order_id) == params["orderId"]]
        if params.get("symbol"):
            base = _pair(params["symbol"]).base
            trades = [t for t in trades if t.base == base]
        return _page(
            [
                {
                    "symbol": f"{t.base}-{market.QUOTE}",
                    "tradeId": str(t.id),
                    "orderId": str(t.order_id),
                    "counterOrderId": f"counter{t.id}",
                    "side": t.side.lower(),
                    "liquidity": "maker" if t.is_maker else "taker",
                    "forceTaker": False,
                    "price": _num(t.price),
                    "size": _num(t.qty),
                    "funds": _num(t.quote_qty),
                    "fee": _num(t.commission),
                    "feeRate": _num(self.state.fee_rate),
                    "feeCurrency": t.commission_asset,
                    "stop": "",
                    "type": orders[t.order_id].type.lower(),
                    "createdAt": t.time,
                    "tradeType": "TRADE",
                }
                for t in trades
            ]
        )

    def _order(self, order: Order) -> dict:
        with self.state.lock:
            trades = [t for t in self.state.trades if t.order_id == order.id]
        fee = sum((t.commission for t in trades), Decimal(0))
        return {
            "id": str(order.id),
            "symbol": f"{order.base}-{market.QUOTE}",
            "opType": "DEAL",
            "type": order.type.lower(),
            "side": order.side.lower(),
            "price": _num(order.price),
            "size": _num(order.qty),
            "funds": _num(order.orig_quote_qty),
            "dealFunds": _num(order.quote_qty),
            "dealSize": _num(order.executed_qty),
            "fee": _num(fee),
            "feeCurrency": trades[0].commission_asset if trades else market.QUOTE,
            "stp": "",
            "stop": None,
            "stopTriggered": False,
            "stopPrice": "0",
            "timeInForce": order.time_in_force or "GTC",
            "postOnly": False,
            "hidden": False,
            "iceberg": False,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "clientOid": order.client_id,
            "remark": None,
            "tags": None,
            "isActive": order.is_open,
            "cancelExist": order.status in ("CANCELED", "EXPIRED"),
            "createdAt": order.time,
            "tradeType": "TRADE",
        }


def _amount(body: dict, name: str) -> Decimal | None:
    raw = body.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value <= 0:
        raise KucoinError(400, "400100", f"{name} not in the given range!")
    return value


def _page(items: list) -> dict:
    return {"currentPage": 1, "pageSize": max(len(items), 50), "totalNum": len(items), "totalPage": 1, "items": items}


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")
