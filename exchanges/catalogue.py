"""The exchanges a trader can connect, and what each needs, read from ccxt where ccxt knows it.

ccxt says which credentials an exchange requires (a passphrase for KuCoin), whether it has a
sandbox (`urls["test"]`) and its base fee schedule; the rest (names, where keys are made, what we
recommend) is ours. A spec is plain data: pages, the API and the services all read this one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import ccxt

from exchanges.errors import UnknownExchange


@dataclass(frozen=True)
class ExchangeSpec:
    id: str
    name: str
    ccxt_id: str
    website: str
    key_page_url: str
    needs_passphrase: bool
    supports_sandbox: bool
    maker_fee: Decimal
    taker_fee: Decimal
    tier_based_fees: bool
    reports_key_permissions: bool  # the exchange tells whether a key can withdraw or is IP-bound
    secret_is_multiline: bool = False  # Coinbase's secret is a PEM private key

    @property
    def fee_text(self) -> str:
        tiers = ", lower with volume" if self.tier_based_fees else ""
        return f"maker {_percent(self.maker_fee)} · taker {_percent(self.taker_fee)}{tiers}"


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


_OURS = (
    (
        "binance",
        "Binance",
        "binance",
        "https://www.binance.com",
        "https://www.binance.com/en/my/settings/api-management",
        True,
    ),
    (
        "coinbase",
        "Coinbase Advanced Trade",
        "coinbase",
        "https://www.coinbase.com/advanced-trade",
        "https://portal.cdp.coinbase.com/access/api",
        False,
    ),
    ("kraken", "Kraken", "kraken", "https://www.kraken.com", "https://pro.kraken.com/app/settings/api", False),
    ("kucoin", "KuCoin", "kucoin", "https://www.kucoin.com", "https://www.kucoin.com/account/api", False),
)


@cache
def catalogue() -> tuple[ExchangeSpec, ...]:
    specs = []
    for exchange_id, name, ccxt_id, website, key_page, reports_permissions in _OURS:
        client = getattr(ccxt, ccxt_id)()
        fees = client.fees.get("trading", {})
        specs.append(
            ExchangeSpec(
                id=exchange_id,
                name=name,
                ccxt_id=ccxt_id,
                website=website,
                key_page_url=key_page,
                needs_passphrase=bool(client.requiredCredentials.get("password")),
                supports_sandbox=bool(client.urls.get("test")),
                maker_fee=Decimal(str(fees.get("maker", 0))),
                taker_fee=Decimal(str(fees.get("taker", 0))),
                tier_based_fees=bool(fees.get("tierBased")),
                reports_key_permissions=reports_permissions,
                secret_is_multiline=exchange_id == "coinbase",
            )
        )
    return tuple(specs)


def exchange_choices() -> list[tuple[str, str]]:
    return [(spec.id, spec.name) for spec in catalogue()]


def exchange_spec(exchange_id: str) -> ExchangeSpec:
    for spec in catalogue():
        if spec.id == exchange_id:
            return spec
    raise UnknownExchange(exchange_id)
