"""Demo-only API keys for the offline demo (`manage.py exchange_emulator --demo-keys`).

These keys and secrets are published here on purpose: they open nothing but the loopback
emulator, so someone trying CryptoVault without exchange accounts can connect one. They are no
real exchange's credentials; never reuse them anywhere else.
"""

from __future__ import annotations

from typing import Any

DEMO_KEYS: list[dict[str, Any]] = [
    {
        "exchange": "binance",
        "label": "Binance, unrestricted, can trade",
        "api_key": "demo-binance-key-trader",
        "secret": "demo-binance-secret-trader-0f3c9a7e5b1d",
        "balances": {"USDT": "10000", "BTC": "0.5", "ETH": "4"},
    },
    {
        "exchange": "binance",
        "label": "Binance, restricted to IP 203.0.113.7 (refused from here: shows the IP error)",
        "api_key": "demo-binance-key-ip-restricted",
        "secret": "demo-binance-secret-ip-restricted-7a2e4c",
        "allowed_ips": ["203.0.113.7"],
    },
    {
        "exchange": "kucoin",
        "label": "KuCoin, unrestricted, with passphrase",
        "api_key": "demo-kucoin-key-trader",
        "secret": "demo-kucoin-secret-trader-5d8b2f1a9c",
        "passphrase": "demo-kucoin-passphrase",
        "balances": {"USDT": "5000", "BTC": "0.25"},
    },
]


def add_demo_keys(emulator) -> list[dict[str, Any]]:
    """Issue every demo key on `emulator`; returns the entries issued."""
    for entry in DEMO_KEYS:
        options = {name: value for name, value in entry.items() if name not in ("exchange", "label")}
        emulator.add_key(entry["exchange"], **options)
    return DEMO_KEYS
