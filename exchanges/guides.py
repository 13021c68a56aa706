"""What a trader reads before and after connecting: per exchange, how to make a key, and per test code,
what it means and how to fix it.

Plain data, one module, so the guide pages, the wizard's test step and the card's "test now" show the
same words. The recommendation is the same everywhere: reading and spot trading on, withdrawals and
transfers never, the key bound to our outbound IP.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchanges.catalogue import ExchangeSpec, exchange_spec
from exchanges.models import TestCode

GUIDE_EXCHANGES = ("binance", "coinbase", "kraken", "kucoin")


@dataclass(frozen=True)
class CodeHelp:
    code: str
    label: str
    meaning: str
    fix: str


@dataclass(frozen=True)
class Guide:
    spec: ExchangeSpec
    create_steps: tuple[str, ...]
    allow: tuple[str, ...]  # the permissions we recommend turning on, in the exchange's words
    never: tuple[str, ...]  # the permissions to leave off
    whitelist_steps: tuple[str, ...]
    notes: tuple[str, ...]
    codes: tuple[CodeHelp, ...]


# What each test code means and how to fix it, wherever the key was made.
_MEANING: dict[str, str] = {
    TestCode.OK: "The exchange accepted the keys and answered a balance request.",
    TestCode.INVALID_CREDENTIALS: (
        "The exchange does not recognise the key, or the secret (or passphrase) does not match it."
    ),
    TestCode.PERMISSION_DENIED: (
        "The key is valid but may not do what we asked (read balances), or the account is restricted."
    ),
    TestCode.IP_NOT_ALLOWED: "The key is bound to IP addresses and our server's outbound IP is not one of them.",
    TestCode.NETWORK_ERROR: "We could not reach the exchange in time: a network problem or a timeout.",
    TestCode.EXCHANGE_UNAVAILABLE: "The exchange answered that it is down or in maintenance.",
    TestCode.RATE_LIMITED: "The exchange is refusing requests for a while because too many were made.",
    TestCode.UNKNOWN: "The exchange answered with an error we do not recognise.",
}

_FIX: dict[str, str] = {
    TestCode.OK: "Nothing to fix.",
    TestCode.INVALID_CREDENTIALS: (
        "Copy the key and the secret again from the exchange, whole, with nothing before or after. A secret is "
        "shown only once: if you no longer have it, delete the key there and make a new one. A testnet key works "
        "only with “Use the sandbox” ticked, a live key only without it."
    ),
    TestCode.PERMISSION_DENIED: (
        "Edit the key on the exchange: turn on reading (and spot trading if CryptoVault should trade), then test "
        "again. If the account itself is restricted, the exchange's support can say why."
    ),
    TestCode.IP_NOT_ALLOWED: (
        "Add our outbound IP address to the key's list of trusted IPs on the exchange (see “Whitelist our IP” "
        "below), save, and test again."
    ),
    TestCode.NETWORK_ERROR: (
        "Try again in a minute. If it keeps failing, the exchange may be blocking our region or be unreachable; "
        "its status page says whether others see the same."
    ),
    TestCode.EXCHANGE_UNAVAILABLE: (
        "Wait until the exchange's maintenance ends (its status page says when) and test again."
    ),
    TestCode.RATE_LIMITED: (
        "Wait a minute and test again. Other programs using the same key or account count against the same limit."
    ),
    TestCode.UNKNOWN: (
        "Test again. If it persists, check the key on the exchange, and quote the request id at the bottom of the "
        "page if you contact us."
    ),
}

# Where one exchange needs a word more than the general fix.
_FIX_EXTRA: dict[str, dict[str, str]] = {
    "binance": {
        TestCode.IP_NOT_ALLOWED: (
            "Binance answers “Invalid API-key, IP, or permissions” (-2015) both for a key bound to other IPs and for "
            "a key it does not know, so also check the key was copied whole."
        ),
    },
    "coinbase": {
        TestCode.INVALID_CREDENTIALS: (
            "The key is the whole name (organizations/…/apiKeys/…) and the secret the whole private key, "
            "“-----BEGIN EC PRIVATE KEY-----” and “-----END EC PRIVATE KEY-----” lines included. Keys must use "
            "the ECDSA signature algorithm, not Ed25519."
        ),
    },
    "kraken": {
        TestCode.INVALID_CREDENTIALS: (
            "Kraken also refuses a key another program is using at the same moment (“invalid nonce”): give "
            "CryptoVault a key of its own."
        ),
    },
    "kucoin": {
        TestCode.INVALID_CREDENTIALS: (
            "Check the passphrase too: it is the one you chose when you made the API key, not your account's "
            "password or trading password."
        ),
    },
}

_ALLOW: dict[str, tuple[str, ...]] = {
    "binance": ("Enable Reading", "Enable Spot & Margin Trading (only if CryptoVault should trade)"),
    "coinbase": ("View", "Trade (only if CryptoVault should trade)"),
    "kraken": (
        "Funds permissions: Query",
        "Orders and trades: Query open orders & trades, Query closed orders & trades",
        "Orders and trades: Create & modify orders, Cancel & close orders (only if CryptoVault should trade)",
    ),
    "kucoin": ("General", "Spot Trading (only if CryptoVault should trade)"),
}

_NEVER: dict[str, tuple[str, ...]] = {
    "binance": (
        "Enable Withdrawals",
        "Enable Futures",
        "Permits Universal Transfer",
        "Enable Margin Loan, Repay & Transfer",
    ),
    "coinbase": ("Transfer",),
    "kraken": ("Funds permissions: Deposit, Withdraw", "Data: Export data / Query ledger entries (not needed)"),
    "kucoin": ("Transfer", "Withdrawal", "Futures Trading", "Margin Trading"),
}

_CREATE_STEPS: dict[str, tuple[str, ...]] = {
    "binance": (
        "Sign in to Binance and open Account → API Management.",
        "Choose “Create API”, then “System generated”, and name the key “CryptoVault”.",
        "Pass Binance's security check (email and authenticator codes).",
        "Copy the API key and the secret key now: Binance shows the secret only once.",
        "Choose “Edit restrictions” and set the permissions below, then “Restrict access to trusted IPs only”.",
    ),
    "coinbase": (
        "Sign in to the Coinbase Developer Platform with your Coinbase account and open API keys.",
        "Choose “Create API key”, name it “CryptoVault” and pick the portfolio it may use.",
        "Under the key's permissions tick only the ones below; under Advanced settings choose the ECDSA signature "
        "algorithm and add our IP to the allowlist.",
        "Create the key and copy the key name and the private key (the whole block) now: Coinbase shows the "
        "private key only once.",
    ),
    "kraken": (
        "Sign in to Kraken Pro and open Settings → API.",
        "Choose “Create API key” and name it “CryptoVault”.",
        "Tick only the permissions below.",
        "Under the advanced settings add our IP to the key's IP whitelist.",
        "Generate the key and copy the API key and the private key now: Kraken shows the private key only once.",
    ),
    "kucoin": (
        "Sign in to KuCoin and open Account → API Management.",
        "Choose “Create API”, then “API Trading”, name it “CryptoVault” and choose an API passphrase. Keep the "
        "passphrase: CryptoVault needs it with the key.",
        "Tick only the permissions below.",
        "Under IP restriction choose “Yes” and add our IP.",
        "Pass KuCoin's security check, then copy the key and the secret now: KuCoin shows the secret only once.",
    ),
}

_WHITELIST: dict[str, tuple[str, ...]] = {
    "binance": (
        "In API Management choose “Edit restrictions” on the key.",
        "Choose “Restrict access to trusted IPs only (Recommended)” and enter our IP.",
        "Confirm and save; Binance asks for its security check again.",
    ),
    "coinbase": (
        "Coinbase sets a key's IP allowlist when the key is made (Advanced settings → IP allowlist).",
        "To change it later, make a new key with our IP and rotate it here.",
    ),
    "kraken": (
        "Open Settings → API and edit the key.",
        "Under the advanced settings, enter our IP in the IP whitelist and save.",
    ),
    "kucoin": (
        "In API Management edit the key's restrictions.",
        "Under IP restriction choose “Yes”, add our IP, and confirm with KuCoin's security check.",
    ),
}

_NOTES: dict[str, tuple[str, ...]] = {
    "binance": (
        "Binance tells us a key's permissions: CryptoVault warns you if the key can withdraw or works from any IP.",
        "Testnet keys are made at testnet.binance.vision and work only with “Use the sandbox” ticked.",
    ),
    "coinbase": ("Coinbase does not tell us a key's permissions: check on Coinbase that “Transfer” is off.",),
    "kraken": ("Kraken does not tell us a key's permissions: check on Kraken that withdrawals are off.",),
    "kucoin": (
        "KuCoin does not tell us a key's permissions: check on KuCoin that withdrawal and transfer are off.",
        "KuCoin's sandbox was retired; connect with a live key.",
    ),
}

CODES_IN_ORDER = (
    TestCode.OK,
    TestCode.INVALID_CREDENTIALS,
    TestCode.PERMISSION_DENIED,
    TestCode.IP_NOT_ALLOWED,
    TestCode.NETWORK_ERROR,
    TestCode.EXCHANGE_UNAVAILABLE,
    TestCode.RATE_LIMITED,
    TestCode.UNKNOWN,
)

BEST_PRACTICES = (
    "Give CryptoVault a key of its own, made for it alone, so you can revoke it without touching anything else.",
    "Never allow withdrawals or transfers on the key: CryptoVault does not need them, and a key that cannot move "
    "funds out is worth little to a thief.",
    "Bind the key to our outbound IP address, so a copy of it is useless anywhere else.",
    "Turn on only what you use: reading always, spot trading only if CryptoVault should trade for you.",
    "Rotate keys every few months: make a new key, rotate it here, then delete the old one on the exchange.",
    "When you revoke a connection here, delete the key on the exchange too; we delete our copy, but only you can "
    "delete the key itself.",
    "Keep two-factor authentication on, here and on the exchange.",
)


def code_help(exchange_id: str, code: str) -> CodeHelp:
    """What `code` means and how to fix it, with the exchange's own advice added where it has some."""
    test_code = TestCode(code) if code in TestCode.values else TestCode.UNKNOWN
    fix = _FIX[test_code]
    if extra := _FIX_EXTRA.get(exchange_id, {}).get(test_code):
        fix = f"{fix} {extra}"
    return CodeHelp(code=test_code.value, label=test_code.label, meaning=_MEANING[test_code], fix=fix)


def guide(exchange_id: str) -> Guide:
    """The guide for one exchange; `UnknownExchange` for one we do not support."""
    spec = exchange_spec(exchange_id)
    return Guide(
        spec=spec,
        create_steps=_CREATE_STEPS[spec.id],
        allow=_ALLOW[spec.id],
        never=_NEVER[spec.id],
        whitelist_steps=_WHITELIST[spec.id],
        notes=_NOTES[spec.id],
        codes=tuple(code_help(spec.id, code) for code in CODES_IN_ORDER),
    )
