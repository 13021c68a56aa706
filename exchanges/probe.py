"""Test a set of keys against the exchange: one authenticated call, classified, timed.

The answer is one of the codes in `exchanges.models.TestCode`, from the exchange's own error code
where it gives one, then from ccxt's exception class. The order matters:

- ccxt turns some authentication failures into network-looking errors (Binance's -2015 after an
  earlier success becomes `DDoSProtection`, a `NetworkError`), so the exchange's code in the
  message is read before the class;
- with keys set, loading markets already makes signed calls, so it is inside the same guard;
- nothing is retried: a second try of a bad key only counts against the account's limits.

Messages are ours, never the exception's text, which can carry request URLs and bodies.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import ccxt

from exchanges.catalogue import ExchangeSpec
from exchanges.client import exchange_client
from exchanges.credentials import Credentials
from exchanges.models import TestCode

logger = logging.getLogger(__name__)

MESSAGES: dict[str, str] = {
    TestCode.OK: "The exchange accepted the keys.",
    TestCode.INVALID_CREDENTIALS: "The exchange rejected the key or secret. Copy both again from the exchange.",
    TestCode.PERMISSION_DENIED: (
        "The key works but lacks a permission this needs (enable reading, and trading to trade)."
    ),
    TestCode.IP_NOT_ALLOWED: (
        "The exchange refused this server's IP address for the key (or does not know the key). "
        "Add the server's outbound IP to the key's whitelist."
    ),
    TestCode.NETWORK_ERROR: "We could not reach the exchange (network error or timeout). Try again in a minute.",
    TestCode.EXCHANGE_UNAVAILABLE: "The exchange is down or in maintenance. Try again later.",
    TestCode.RATE_LIMITED: "The exchange is rate-limiting requests. Wait a minute and try again.",
    TestCode.UNKNOWN: "The exchange answered with an error we do not recognise. Try again, or check the key there.",
}

# The exchanges' own error codes, read from the response body before ccxt's class.
EXCHANGE_CODES: dict[str, dict[str, str]] = {
    "binance": {
        "-1002": TestCode.INVALID_CREDENTIALS,  # unauthorized
        "-1003": TestCode.RATE_LIMITED,
        "-1015": TestCode.RATE_LIMITED,
        "-1022": TestCode.INVALID_CREDENTIALS,  # signature not valid: wrong secret
        "-2008": TestCode.INVALID_CREDENTIALS,  # invalid API-key ID
        "-2014": TestCode.INVALID_CREDENTIALS,  # API-key format invalid
        "-2015": TestCode.IP_NOT_ALLOWED,  # "Invalid API-key, IP, or permissions": see classify
        "-1021": TestCode.UNKNOWN,  # timestamp outside recvWindow: our clock
    },
    "kucoin": {
        "400001": TestCode.INVALID_CREDENTIALS,
        "400003": TestCode.INVALID_CREDENTIALS,  # KC-API-KEY not exists
        "400004": TestCode.INVALID_CREDENTIALS,  # invalid passphrase
        "400005": TestCode.INVALID_CREDENTIALS,  # invalid signature
        "400006": TestCode.IP_NOT_ALLOWED,
        "400007": TestCode.PERMISSION_DENIED,
        "411100": TestCode.PERMISSION_DENIED,  # account frozen
        "429000": TestCode.RATE_LIMITED,
        "503000": TestCode.EXCHANGE_UNAVAILABLE,  # ccxt raises a plain ExchangeError for it
        "400002": TestCode.UNKNOWN,  # timestamp: our clock
    },
}

_CODE_IN_BODY = re.compile(r'"code"\s*:\s*"?(-?\d+)"?')


@dataclass(frozen=True)
class KeyPermissions:
    can_withdraw: bool | None = None
    ip_restricted: bool | None = None
    can_trade: bool | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    code: str
    message: str
    latency_ms: int | None
    permissions: KeyPermissions | None = None
    exchange_code: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "code": self.code, "message": self.message, "latency_ms": self.latency_ms}


def classify(spec: ExchangeSpec, error: Exception, *, ip_restricted: bool | None = None) -> tuple[str, str]:
    """(test code, the exchange's own code or "") for an exception from a ccxt call.

    Binance answers -2015 alike for an unknown (or deleted) key and for a key bound to other IPs.
    A key we know to be unrestricted cannot fail for its IP, so there it means the key is gone;
    otherwise (new keys, IP-bound keys) the IP is the likelier cause, and the message names both.
    """
    text = str(error)
    match = _CODE_IN_BODY.search(text)
    exchange_code = match.group(1) if match else ""
    known = EXCHANGE_CODES.get(spec.id, {})
    if exchange_code in known:
        code = known[exchange_code]
        if spec.id == "binance" and exchange_code == "-2015" and ip_restricted is False:
            code = TestCode.INVALID_CREDENTIALS
        return code, exchange_code
    for cls, code in (
        (ccxt.PermissionDenied, TestCode.PERMISSION_DENIED),
        (ccxt.AccountSuspended, TestCode.PERMISSION_DENIED),
        (ccxt.AuthenticationError, TestCode.INVALID_CREDENTIALS),
        (ccxt.RateLimitExceeded, TestCode.RATE_LIMITED),
        (ccxt.DDoSProtection, TestCode.RATE_LIMITED),
        (ccxt.OnMaintenance, TestCode.EXCHANGE_UNAVAILABLE),
        (ccxt.ExchangeNotAvailable, TestCode.EXCHANGE_UNAVAILABLE),
        (ccxt.RequestTimeout, TestCode.NETWORK_ERROR),
        (ccxt.NetworkError, TestCode.NETWORK_ERROR),
    ):
        if isinstance(error, cls):
            return code, exchange_code
    return TestCode.UNKNOWN, exchange_code


def _binance_permissions(client: ccxt.Exchange) -> KeyPermissions:
    restrictions = client.sapi_get_account_apirestrictions()
    created_ms = restrictions.get("createTime")
    return KeyPermissions(
        can_withdraw=bool(restrictions.get("enableWithdrawals")),
        ip_restricted=bool(restrictions.get("ipRestrict")),
        can_trade=bool(restrictions.get("enableSpotAndMarginTrading")),
        created_at=datetime.fromtimestamp(int(created_ms) / 1000, tz=UTC) if created_ms else None,
    )


def probe(
    spec: ExchangeSpec, credentials: Credentials, *, sandbox: bool = False, ip_restricted: bool | None = None
) -> ProbeResult:
    """One authenticated balance call (and the key's permissions where the exchange reports them).

    `ip_restricted` is what an earlier check learnt about a stored key (None for new keys).
    """
    client = exchange_client(spec, credentials, sandbox=sandbox)
    started = time.monotonic()
    permissions = None
    try:
        client.load_markets()  # signed calls already, with keys set
        started = time.monotonic()
        client.fetch_balance()
        latency_ms = round((time.monotonic() - started) * 1000)
        if spec.id == "binance" and not sandbox:
            permissions = _binance_permissions(client)
    except Exception as error:  # every failure becomes a code; none escapes as a 500
        code, exchange_code = classify(spec, error, ip_restricted=ip_restricted)
        logger.info(
            "exchange test failed",
            extra={"exchange": spec.id, "code": code, "exchange_code": exchange_code, "error": type(error).__name__},
        )
        return ProbeResult(
            ok=False,
            code=code,
            message=MESSAGES[code],
            latency_ms=round((time.monotonic() - started) * 1000),
            exchange_code=exchange_code,
        )
    finally:
        _close(client)
    return ProbeResult(
        ok=True, code=TestCode.OK, message=MESSAGES[TestCode.OK], latency_ms=latency_ms, permissions=permissions
    )


def _close(client: ccxt.Exchange) -> None:
    session = getattr(client, "session", None)
    if session is not None:
        session.close()
