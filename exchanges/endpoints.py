"""Send a ccxt client to another host: the exchange emulator instead of the exchange.

Tests and the offline demo use ccxt's real clients against the loopback emulator
(`exchanges.emulator`), never a mock of ccxt, so signing, error mapping and timeouts are exercised
as in production. Only where requests go changes: `point_at` swaps the scheme and host of every API
URL for the emulator's base URL and keeps each path. `EXCHANGE_API_URLS`
(`binance=http://127.0.0.1:9100/binance,kucoin=...`) says which exchanges to redirect; empty
means the exchanges' own hosts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import ccxt


def point_at(client: ccxt.Exchange, base_url: str) -> None:
    """Rewrite `client.urls["api"]` (a string or nested dicts of strings) in place, so
    `https://api.binance.com/api/v3` becomes `<base_url>/api/v3`."""
    target = _checked_base(base_url)
    client.urls["api"] = _rewrite(client.urls["api"], target)


def parse_overrides(text: str) -> dict[str, str]:
    """`"binance=http://127.0.0.1:9100/binance,kucoin=..."` -> {"binance": "http://...", ...}."""
    overrides: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        exchange, sep, url = (piece.strip() for piece in item.partition("="))
        if not sep or not exchange or not url:
            raise ValueError(f"expected exchange=URL, got {item!r}")
        if exchange in overrides:
            raise ValueError(f"{exchange!r} is given twice")
        overrides[exchange] = _checked_base(url, exchange=exchange)
    return overrides


def _checked_base(url: str, exchange: str | None = None) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        label = f" for {exchange!r}" if exchange else ""
        raise ValueError(f"expected an http(s) base URL without query{label}, got {url!r}")
    return url.rstrip("/")


def _rewrite(value: object, target: str) -> object:
    if isinstance(value, dict):
        return {name: _rewrite(item, target) for name, item in value.items()}
    if isinstance(value, str):
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc:
            return value
        return target + parts.path + (f"?{parts.query}" if parts.query else "")
    return value
