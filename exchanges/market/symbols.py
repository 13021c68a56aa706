"""The markets we follow (settings.MARKET_SYMBOLS) and the spellings people and URLs use for them.

ccxt and the database say "BTC/USDT"; a URL cannot carry the slash, so pages and the API say
"BTC-USDT"; people paste "btcusdt" from an exchange. `parse_symbol` turns any of them into the one
spelling, and refuses a market we do not follow, so nothing downstream sees an unknown symbol.
"""

from __future__ import annotations

from django.conf import settings

from exchanges.errors import UnknownSymbol

_SEPARATORS = ("/", "-", "_")


def market_symbols() -> list[str]:
    return list(settings.MARKET_SYMBOLS)


def parse_symbol(text: str) -> str:
    """ "BTC-USDT", "btc-usdt", "BTC/USDT", "BTCUSDT" -> "BTC/USDT"; UnknownSymbol (400) otherwise."""
    raw = str(text or "").strip().upper()
    symbols = market_symbols()
    for separator in _SEPARATORS:
        if separator in raw:
            base, _, quote = raw.partition(separator)
            candidate = f"{base}/{quote}"
            if candidate in symbols:
                return candidate
            break
    else:
        for symbol in symbols:
            if symbol.replace("/", "") == raw:
                return symbol
    raise UnknownSymbol(raw[:32])


def url_symbol(symbol: str) -> str:
    """The spelling for URLs: "BTC/USDT" -> "BTC-USDT"."""
    return symbol.replace("/", "-")
