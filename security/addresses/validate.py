"""`validate_address`: is this address (and memo) right for this asset on this network?

The one check the whitelist, the withdrawal request and the admin all call, so they never disagree.
Errors are `ValidationError`s keyed by field (`asset`, `network`, `address`, `memo`), worded for the
person holding the wallet: what is wrong and what to do, never a bare "invalid".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from security.addresses import networks as chains
from security.addresses.codecs import CodecError
from security.addresses.formats import PARSERS, OtherNetworkError, parse_destination_tag
from security.addresses.networks import ADDRESS_KINDS, XRP_LEDGER, Network, networks_for

MAX_INPUT_LENGTH = 200
MAX_MEMO_LENGTH = 64  # WithdrawalAddress.memo / Withdrawal.memo
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_PAYMENT_LINK = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked destination: the network row and the address and memo in canonical form."""

    network: Network
    address: str
    memo: str


def address_kinds_of(text: str) -> list[str]:
    """The address formats (`networks.ADDRESS_KINDS` keys) `text` is a valid mainnet address of."""
    kinds = []
    for kind, parse in PARSERS.items():
        try:
            parse(text)
        except CodecError:
            continue
        kinds.append(kind)
    return kinds


def validate_destination(*, asset: str, network: str, address: str, memo: str = "") -> Destination:
    """Check `address` and `memo` for `asset` on `network`; the canonical forms, or ValidationError.

    Raises ValidationError({"asset"|"network": ...}) when the pair is not offered, else one with
    "address" and/or "memo" messages (both at once, so a form shows every problem in one go).
    """
    row = chains.network(asset, network)
    errors: dict[str, list[str]] = {}
    canonical_address = ""
    try:
        canonical_address = _check_address(row, address)
    except _Refused as refused:
        errors["address"] = [refused.message]
    canonical_memo = ""
    try:
        canonical_memo = _check_memo(row, memo)
    except _Refused as refused:
        errors["memo"] = [refused.message]
    if errors:
        raise ValidationError(errors)
    return Destination(network=row, address=canonical_address, memo=canonical_memo)


def validate_address(*, asset: str, network: str, address: str, memo: str = "") -> str:
    """The canonical form of `address` (EIP-55 case for EVM, lowercase Bech32), or ValidationError.

    See `validate_destination` for the canonical memo as well.
    """
    return validate_destination(asset=asset, network=network, address=address, memo=memo).address


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean(text: str) -> str:
    return (text or "").strip().strip(_INVISIBLE).strip()


def _check_address(row: Network, raw: str) -> str:
    text = _clean(raw)
    label = row.name
    if not text:
        raise _Refused(f"Enter the {label} address to send {row.asset} to.")
    if len(text) > MAX_INPUT_LENGTH:
        raise _Refused(f"This is too long to be a {label} address. Copy only the address.")
    if any(c.isspace() or c in _INVISIBLE for c in text):
        raise _Refused(
            f"This is not a valid {label} address: it contains spaces or invisible characters. "
            "Copy it again from the wallet that gave it."
        )
    if _PAYMENT_LINK.match(text):
        scheme = text.split(":", 1)[0]
        raise _Refused(
            f"This is a payment link, not an address: enter only the address after “{scheme}:”, "
            "without anything after a question mark."
        )
    parse = PARSERS[row.address_kind]
    try:
        return parse(text)
    except CodecError as problem:
        failure = problem
    wrong_network = _wrong_network_message(row, text)
    if wrong_network:
        raise _Refused(wrong_network)
    if isinstance(failure, OtherNetworkError):
        raise _Refused(f"This is not a {label} address we can send to: {failure.reason}.")
    advice = f" {failure.advice}" if failure.advice else ""
    raise _Refused(f"This is not a valid {label} address: {failure.reason}.{advice}")


def _wrong_network_message(row: Network, text: str) -> str:
    """When the address is valid on another chain, say which, and what to choose instead."""
    kinds = [kind for kind in address_kinds_of(text) if kind != row.address_kind]
    if not kinds:
        return ""
    matching = [other for other in networks_for(row.asset) if other.address_kind in kinds]
    if matching:
        detected = " or ".join(other.name for other in matching)
        return (
            f"This is {_article(detected)} {detected} address; you chose the {row.name} network. "
            "Choose the network the address belongs to: coins sent on the wrong network are lost."
        )
    detected = " or ".join(ADDRESS_KINDS[kind] for kind in kinds)
    return (
        f"This is {_article(detected)} {detected} address; you chose the {row.name} network. "
        f"{row.asset} on {row.name} can go only to {_article(row.name)} {row.name} address."
    )


def _check_memo(row: Network, raw: str) -> str:
    memo = _clean(raw)
    name = row.memo_name
    if row.memo == "none":
        if memo:
            raise _Refused(f"{row.name} withdrawals have no {name}; leave it empty.")
        return ""
    if not memo:
        if row.memo == "required":
            raise _Refused(
                f"{row.asset} on {row.name} needs a {name}: the receiving wallet or exchange shows it next to "
                "the address."
            )
        return ""
    if row.address_kind == XRP_LEDGER:
        try:
            return parse_destination_tag(memo)
        except CodecError as problem:
            raise _Refused(f"This is not a valid {name}: {problem.reason}.") from None
    if len(memo) > MAX_MEMO_LENGTH:
        raise _Refused(f"A {name} is at most {MAX_MEMO_LENGTH} characters.")
    return memo


def _article(phrase: str) -> str:
    return "an" if phrase[:1] in "AEIOUaeiou" or phrase.startswith("XRP") else "a"
