"""What an exchange's refusal of an order means, in our words: the order-side twin of `exchanges.probe`.

`order_refusal(exchange, error)` reads a ccxt exception raised by create_order or cancel_order and
answers a `Refusal`: our reject code, a message a trader can act on, the exchange's own code, and
whether the outcome is *known*. The rules follow `exchanges.probe.classify`:

- the exchange's own error code (and, for a code that covers several refusals, such as Binance's
  -1013 and KuCoin's 400100, the rule its message names) is read from the answer before ccxt's
  exception class, because the class can mislead (Binance's -2015 comes back as `DDoSProtection`,
  a network-looking error, once a client has authenticated);
- only then are ccxt's classes mapped;
- an error that may have happened *after* the exchange took the order (a timeout, a refused or cut
  connection, a 5xx that is not a declared maintenance) is not a rejection: the outcome is unknown,
  the order stays pending and the sync asks the exchange by client order id (`known=False`).

Messages are ours, never the exception's text, which can carry request URLs and bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ccxt

from cryptovault.errors import DomainError

INSUFFICIENT_BALANCE = "insufficient_balance"
BELOW_MINIMUM = "below_minimum"
LOT_SIZE = "lot_size"
PRICE_FILTER = "price_filter"
INVALID_KEY = "invalid_key"
PERMISSION_DENIED = "permission_denied"
RATE_LIMITED = "rate_limited"
EXCHANGE_UNAVAILABLE = "exchange_unavailable"
INVALID_ORDER = "invalid_order"
UNKNOWN_ORDER = "unknown_order"
NOT_RECEIVED = "not_received"
NETWORK_ERROR = "network_error"
EXCHANGE_ERROR = "exchange_error"

MESSAGES: dict[str, str] = {
    INSUFFICIENT_BALANCE: (
        "The exchange refused the order: insufficient balance on the exchange account "
        "(funds moved there since the last sync, or held by orders placed elsewhere)."
    ),
    BELOW_MINIMUM: "The exchange refused the order: its value is below the market's minimum order size.",
    LOT_SIZE: (
        "The exchange refused the order: the quantity is outside the market's limits or not a multiple of its step."
    ),
    PRICE_FILTER: (
        "The exchange refused the order: the price is outside the market's limits or not a multiple of its tick."
    ),
    INVALID_KEY: (
        "The exchange refused the API key (unknown, deleted, wrong secret, or this server's IP is not allowed). "
        "Check the connection's keys."
    ),
    PERMISSION_DENIED: "The API key is not allowed to trade. Enable spot trading for the key on the exchange.",
    RATE_LIMITED: "The exchange is rate-limiting requests. Wait a minute and place the order again.",
    EXCHANGE_UNAVAILABLE: "The exchange is down or in maintenance. Nothing was traded; try again later.",
    INVALID_ORDER: "The exchange refused the order as invalid for this market.",
    UNKNOWN_ORDER: "The exchange does not know this order.",
    NOT_RECEIVED: "The exchange never received the order (the connection failed). Nothing was traded.",
    NETWORK_ERROR: "We could not reach the exchange (network error or timeout). Try again in a minute.",
    EXCHANGE_ERROR: "The exchange answered with an error we do not recognise. Nothing was traded.",
}

# Where the outcome of a placement is unknown: the order stays pending, marked with this note.
UNKNOWN_OUTCOME_NOTE = "unknown, will be synced"

# (exchange, code) -> reject code; Binance's -1013 and -2010 are refined by the filter they name.
EXCHANGE_CODES: dict[str, dict[str, str]] = {
    "binance": {
        "-1002": INVALID_KEY,
        "-1003": RATE_LIMITED,
        "-1015": RATE_LIMITED,
        "-1013": INVALID_ORDER,  # "Filter failure: <FILTER>", see _binance_filter
        "-1111": LOT_SIZE,  # precision over the maximum defined for the asset
        "-1116": INVALID_ORDER,
        "-1117": INVALID_ORDER,
        "-1121": INVALID_ORDER,  # invalid symbol
        "-1022": INVALID_KEY,
        "-2008": INVALID_KEY,
        "-2010": INVALID_ORDER,  # "Account has insufficient balance ..." and others, see _binance_filter
        "-2011": UNKNOWN_ORDER,
        "-2013": UNKNOWN_ORDER,
        "-2014": INVALID_KEY,
        "-2015": INVALID_KEY,  # "Invalid API-key, IP, or permissions for action"
        "-1021": EXCHANGE_ERROR,  # timestamp outside recvWindow: our clock, refused before anything happened
    },
    "kucoin": {
        "200004": INSUFFICIENT_BALANCE,
        "400001": INVALID_KEY,
        "400003": INVALID_KEY,
        "400004": INVALID_KEY,
        "400005": INVALID_KEY,
        "400006": INVALID_KEY,
        "400007": PERMISSION_DENIED,
        "400100": INVALID_ORDER,
        "400350": BELOW_MINIMUM,
        "400760": PRICE_FILTER,
        "429000": RATE_LIMITED,
        "503000": EXCHANGE_UNAVAILABLE,
    },
}

# Codes that cover several refusals, told apart by the rule their message names (first match wins).
_REFINED: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
_BINANCE_FILTERS = (
    ("insufficient balance", INSUFFICIENT_BALANCE),
    ("MARKET_LOT_SIZE", LOT_SIZE),
    ("LOT_SIZE", LOT_SIZE),
    ("PRICE_FILTER", PRICE_FILTER),
    ("PERCENT_PRICE", PRICE_FILTER),
    ("MIN_NOTIONAL", BELOW_MINIMUM),
    ("NOTIONAL", BELOW_MINIMUM),
)
_REFINED[("binance", "-1013")] = _REFINED[("binance", "-2010")] = _BINANCE_FILTERS
_REFINED[("kucoin", "400100")] = (
    ("not exist", UNKNOWN_ORDER),
    ("funds", BELOW_MINIMUM),
    ("below the minimum", BELOW_MINIMUM),
    ("size", LOT_SIZE),
    ("quantity", LOT_SIZE),
    ("price", PRICE_FILTER),
)
_CODE_IN_BODY = re.compile(r'"code"\s*:\s*"?(-?\d+)"?')


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    exchange_code: str = ""
    known: bool = True  # False: the exchange may have taken the order; ask it before deciding

    @classmethod
    def of(cls, code: str, exchange_code: str = "", *, known: bool = True) -> Refusal:
        return cls(code=code, message=MESSAGES[code], exchange_code=exchange_code, known=known)


def _named(rules: tuple[tuple[str, str], ...], text: str) -> str | None:
    lowered = text.lower()
    for needle, code in rules:
        if needle.lower() in lowered:
            return code
    return None


def order_refusal(exchange: str, error: Exception) -> Refusal:
    """Our reading of an exception from an order call (create, fetch or cancel)."""
    text = str(error)
    match = _CODE_IN_BODY.search(text)
    exchange_code = match.group(1) if match else ""
    known_codes = EXCHANGE_CODES.get(exchange, {})
    if exchange_code in known_codes:
        code = known_codes[exchange_code]
        if (exchange, exchange_code) in _REFINED:
            code = _named(_REFINED[(exchange, exchange_code)], text) or code
        return Refusal.of(code, exchange_code)
    # ccxt drops the code of some answers ("binance Filter failure: LOT_SIZE"), but the filter is named.
    named = _named(_BINANCE_FILTERS, text) if exchange == "binance" and isinstance(error, ccxt.ExchangeError) else None
    if named:
        return Refusal.of(named, exchange_code)
    for cls, code, known in (
        (ccxt.InsufficientFunds, INSUFFICIENT_BALANCE, True),
        (ccxt.PermissionDenied, PERMISSION_DENIED, True),
        (ccxt.AccountSuspended, PERMISSION_DENIED, True),
        (ccxt.AuthenticationError, INVALID_KEY, True),
        (ccxt.OrderNotFound, UNKNOWN_ORDER, True),
        (ccxt.InvalidOrder, INVALID_ORDER, True),
        (ccxt.BadSymbol, INVALID_ORDER, True),
        (ccxt.RateLimitExceeded, RATE_LIMITED, True),
        (ccxt.DDoSProtection, RATE_LIMITED, True),
        (ccxt.OnMaintenance, EXCHANGE_UNAVAILABLE, True),
        # A 5xx, a timeout or a cut connection: the exchange may have taken the order.
        (ccxt.ExchangeNotAvailable, NETWORK_ERROR, False),
        (ccxt.RequestTimeout, NETWORK_ERROR, False),
        (ccxt.NetworkError, NETWORK_ERROR, False),
    ):
        if isinstance(error, cls):
            return Refusal.of(code, exchange_code, known=known)
    if isinstance(error, ccxt.BaseError):
        return Refusal.of(EXCHANGE_ERROR, exchange_code)
    # Not ccxt's: a bug of ours or a library's before anything was sent is still no 500 for the trader,
    # but it is not a refusal either: the sync finds out whether the order reached the exchange.
    return Refusal.of(NETWORK_ERROR, exchange_code, known=False)


class ExchangeCallFailed(DomainError):
    """A cancel (or another call on an order) the exchange could not carry out now; nothing changed here."""

    status_code = 503
    code = "exchange_call_failed"

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(refusal.message)

    @property
    def extra(self) -> dict:
        return {"reason": self.refusal.code}
