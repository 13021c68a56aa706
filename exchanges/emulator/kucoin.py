"""KuCoin spot, as ccxt's `kucoin` client sees it: market data and the account balances.

KuCoin is the project's passphrase exchange. Private endpoints check KuCoin's v2 key scheme:
`KC-API-KEY`, `KC-API-TIMESTAMP` (within 5 s of the server), `KC-API-PASSPHRASE` (base64
HMAC-SHA256 of the passphrase under the secret, so a wrong secret already fails here, as on KuCoin)
and `KC-API-SIGN` (base64 HMAC-SHA256 of timestamp + method + path with query + body). Errors use
KuCoin's own codes and texts (400001 to 400006, HTTP 401). Futures and margin endpoints that ccxt's
`load_markets()` asks for are served empty: the emulator lists spot pairs only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from decimal import Decimal

from exchanges.emulator import market
from exchanges.emulator.state import ApiKey, ExchangeState
from exchanges.emulator.wire import Request, Response

TIMESTAMP_TOLERANCE_MS = 5_000
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
        }

    def knows(self, request: Request) -> bool:
        route = (request.method, request.path)
        return route in self.public or route in self.private

    def handle(self, request: Request) -> Response:
        route = (request.method, request.path)
        try:
            if route in self.public:
                return Response(200, _ok(self.public[route](request)))
            if route in self.private:
                key = self.authenticate(request)
                return Response(200, _ok(self.private[route](request, key)))
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
        day = market.last_day(rules.base)
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


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")
