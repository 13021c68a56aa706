"""The assets we withdraw and the networks (chains) each one travels on.

A `Network` is one asset on one chain: USDT on Tron is a different row from USDT on Ethereum,
with its own minimum and fee. `code` is what we store (`WithdrawalAddress.network`,
`Withdrawal.network`) and is Binance's own network code, which is also what ccxt passes on as
`params={"network": ...}` (`ccxt_network`, kept separate in case an exchange ever differs).

`min_withdrawal` and `fee` are configurable defaults close to Binance's published figures
(late 2026), kept in the one table `_NETWORK_ROWS` below so an operator changes them in one place;
they are not fetched live. An exchange account's real fee is whatever the exchange charges; paper
accounts and the minimum check use these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError

MemoRule = Literal["required", "optional", "none"]

# Address formats (each has its validator in security.addresses.validators).
BITCOIN = "bitcoin"
EVM = "evm"
TRON = "tron"
SOLANA = "solana"
XRP_LEDGER = "xrp"
CARDANO = "cardano"
DOGECOIN = "dogecoin"
POLKADOT = "polkadot"

ADDRESS_KINDS: dict[str, str] = {
    BITCOIN: "Bitcoin",
    EVM: "Ethereum (EVM)",
    TRON: "Tron (TRC-20)",
    SOLANA: "Solana",
    XRP_LEDGER: "XRP Ledger",
    CARDANO: "Cardano",
    DOGECOIN: "Dogecoin",
    POLKADOT: "Polkadot",
}


@dataclass(frozen=True, slots=True)
class Network:
    """One asset on one chain, as a withdrawal form offers it."""

    asset: str
    code: str
    name: str
    address_kind: str
    memo: MemoRule
    min_withdrawal: Decimal
    fee: Decimal
    ccxt_network: str

    @property
    def key(self) -> str:
        """`"USDT/TRX"`: the key in `NETWORKS`."""
        return f"{self.asset}/{self.code}"

    @property
    def memo_name(self) -> str:
        """What the chain calls the memo (XRP: destination tag)."""
        return "destination tag" if self.address_kind == XRP_LEDGER else "memo"

    def __str__(self) -> str:
        return f"{self.asset} on {self.name}"


# The chains: code -> (name, address kind, memo rule).
CHAINS: dict[str, tuple[str, str, MemoRule]] = {
    "BTC": ("Bitcoin", BITCOIN, "none"),
    "ETH": ("Ethereum (ERC-20)", EVM, "none"),
    "ARBITRUM": ("Arbitrum One", EVM, "none"),
    "BSC": ("BNB Smart Chain (BEP-20)", EVM, "none"),
    "AVAXC": ("Avalanche C-Chain", EVM, "none"),
    "TRX": ("Tron (TRC-20)", TRON, "none"),
    "SOL": ("Solana", SOLANA, "none"),
    "XRP": ("XRP Ledger", XRP_LEDGER, "optional"),
    "ADA": ("Cardano", CARDANO, "none"),
    "DOGE": ("Dogecoin", DOGECOIN, "none"),
    "DOT": ("Polkadot", POLKADOT, "none"),
}

# Names people type for a chain that we store under another code.
ALIASES: dict[str, str] = {
    "ERC20": "ETH",
    "ERC-20": "ETH",
    "BEP20": "BSC",
    "BEP-20": "BSC",
    "TRC20": "TRX",
    "TRC-20": "TRX",
    "TRON": "TRX",
    "SPL": "SOL",
    "ARB": "ARBITRUM",
    "AVAX-C": "AVAXC",
    "CCHAIN": "AVAXC",
}

# asset, network code, min_withdrawal, fee (configurable defaults, Binance-like).
_NETWORK_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("BTC", "BTC", "0.001", "0.0002"),
    ("ETH", "ETH", "0.01", "0.0015"),
    ("ETH", "ARBITRUM", "0.001", "0.0001"),
    ("BNB", "BSC", "0.01", "0.0005"),
    ("SOL", "SOL", "0.1", "0.008"),
    ("XRP", "XRP", "2", "0.2"),
    ("ADA", "ADA", "2", "0.8"),
    ("DOGE", "DOGE", "25", "4"),
    ("AVAX", "AVAXC", "0.1", "0.008"),
    ("DOT", "DOT", "1.5", "0.1"),
    ("LINK", "ETH", "0.6", "0.3"),
    ("LINK", "BSC", "0.05", "0.01"),
    ("USDT", "ETH", "10", "4"),
    ("USDT", "TRX", "10", "1"),
    ("USDT", "BSC", "10", "0.3"),
    ("USDT", "SOL", "10", "1"),
)


def _build() -> dict[str, Network]:
    built: dict[str, Network] = {}
    for asset, code, minimum, fee in _NETWORK_ROWS:
        name, kind, memo = CHAINS[code]
        row = Network(
            asset=asset,
            code=code,
            name=name,
            address_kind=kind,
            memo=memo,
            min_withdrawal=Decimal(minimum),
            fee=Decimal(fee),
            ccxt_network=code,
        )
        built[row.key] = row
    return built


NETWORKS: dict[str, Network] = _build()
"""Every asset/network pair we offer, keyed `"ASSET/CODE"` (e.g. `"USDT/TRX"`), in offer order."""

ASSETS: tuple[str, ...] = tuple(dict.fromkeys(row.asset for row in NETWORKS.values()))
"""The withdrawable assets, in the order forms list them."""


def chain_name(code: str) -> str:
    """The chain's display name for a stored network code (the code itself if unknown)."""
    chain = CHAINS.get(normalise_code(code))
    return chain[0] if chain else code


def normalise_code(code: str) -> str:
    cleaned = (code or "").strip().upper()
    return ALIASES.get(cleaned, cleaned)


def networks_for(asset: str) -> list[Network]:
    """The networks `asset` can be withdrawn on, default first; [] for an asset we do not offer."""
    wanted = (asset or "").strip().upper()
    return [row for row in NETWORKS.values() if row.asset == wanted]


def network(asset: str, code: str) -> Network:
    """The `Network` for `asset` on chain `code` (aliases such as TRC20 or ERC20 accepted).

    Raises ValidationError keyed `asset` or `network` (never KeyError) with a message naming
    the choices, so forms and the API show it next to the field.
    """
    wanted = (asset or "").strip().upper()
    offered = networks_for(wanted)
    if not offered:
        raise ValidationError(
            {"asset": [f"We do not offer withdrawals of {wanted or 'this asset'}. Choose one of: {', '.join(ASSETS)}."]}
        )
    normalised = normalise_code(code)
    for row in offered:
        if row.code == normalised:
            return row
    choices = ", ".join(f"{row.name} ({row.code})" for row in offered)
    if not normalised:
        message = f"Choose the network for {wanted}: {choices}."
    elif normalised in CHAINS:
        message = f"{wanted} cannot be withdrawn on {CHAINS[normalised][0]}. Choose one of: {choices}."
    else:
        message = f"{code.strip()} is not a network we know for {wanted}. Choose one of: {choices}."
    raise ValidationError({"network": [message]})
