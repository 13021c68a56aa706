"""The encodings under the address formats: Bech32/Bech32m, Base58Check and SS58.

Base58 comes from the `base58` package (both the Bitcoin and the Ripple alphabet). Bech32 is written
here from BIP-173 and BIP-350 because the `bech32` package on PyPI predates Bech32m (BIP-350) and has
the 90-character limit commented out; Cardano needs that limit lifted, Bitcoin needs it kept, so the
limit is a parameter. Each decoder raises `CodecError` with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

import base58

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
SEGWIT_MAX_LENGTH = 90  # BIP-173: a segwit address is at most 90 characters.


RETYPE = "Copy it again from the wallet that gave it."


class CodecError(ValueError):
    """The text is not in the encoding; `reason` completes "This is not a valid X address: ...".

    `advice` follows the sentence: by default, copy it again (most failures are copying mistakes).
    """

    def __init__(self, reason: str, *, advice: str = RETYPE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.advice = advice


class ChecksumError(CodecError):
    """Well formed, but the checksum does not match: a typing or copying mistake."""

    def __init__(self) -> None:
        super().__init__("its checksum does not match")


class Bech32Variant(Enum):
    BECH32 = 1  # BIP-173 checksum constant
    BECH32M = 0x2BC830A3  # BIP-350 checksum constant


@dataclass(frozen=True, slots=True)
class Bech32Decoded:
    hrp: str
    data: list[int]  # 5-bit groups, checksum removed
    variant: Bech32Variant


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = ((checksum & 0x1FFFFFF) << 5) ^ value
        for bit, generator in enumerate(_BECH32_GENERATOR):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _hrp_values(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str, *, max_length: int | None = SEGWIT_MAX_LENGTH) -> Bech32Decoded:
    """Split `text` into human-readable part and 5-bit data; check the Bech32 or Bech32m checksum.

    Follows BIP-173's decoding rules (printable US-ASCII, one case, separator "1", non-empty HRP,
    six checksum characters) with BIP-350's second checksum constant. The result is lowercase.
    """
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise CodecError("it contains characters that are not part of any address")
    if text.lower() != text and text.upper() != text:
        raise CodecError("it mixes upper and lower case letters")
    if max_length is not None and len(text) > max_length:
        raise CodecError(f"it is longer than {max_length} characters")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1:
        raise CodecError("it has no prefix before the separator 1")
    if separator + 7 > len(text):
        raise CodecError("it is too short")
    hrp, payload = text[:separator], text[separator + 1 :]
    bad = sorted({c for c in payload if c not in BECH32_CHARSET})
    if bad:
        raise CodecError(f"it contains {_quote(bad)}, {_never(bad)} this kind of address")
    data = [BECH32_CHARSET.index(c) for c in payload]
    constant = _polymod(_hrp_values(hrp) + data)
    for variant in Bech32Variant:
        if constant == variant.value:
            return Bech32Decoded(hrp=hrp, data=data[:-6], variant=variant)
    raise ChecksumError()


def bech32_encode(hrp: str, data: list[int], variant: Bech32Variant) -> str:
    values = _hrp_values(hrp) + data
    constant = _polymod([*values, 0, 0, 0, 0, 0, 0]) ^ variant.value
    checksum = [(constant >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def convert_bits(data: list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    """Regroup bits (8 to 5 when encoding, 5 to 8 when decoding), with BIP-173's padding rules."""
    accumulator = bits = 0
    result = []
    max_value = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise CodecError("it is not well formed")
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & max_value)
    if pad:
        if bits:
            result.append((accumulator << (to_bits - bits)) & max_value)
    elif bits >= from_bits:
        raise CodecError("it has more padding than the format allows")
    elif (accumulator << (to_bits - bits)) & max_value:
        raise CodecError("its padding bits are not zero")
    return result


def base58_decode(text: str, *, alphabet: bytes = base58.BITCOIN_ALPHABET) -> bytes:
    bad = sorted({c for c in text if c.encode() not in _alphabet_chars(alphabet)}) if text.isascii() else None
    if bad is None:
        raise CodecError("it contains characters that are not part of any address (look-alike letters?)")
    if bad:
        raise CodecError(f"it contains {_quote(bad)}, {_never(bad)} this kind of address")
    return base58.b58decode(text, alphabet=alphabet)


def base58check_decode(text: str, *, alphabet: bytes = base58.BITCOIN_ALPHABET) -> bytes:
    """The payload (version byte(s) included) of a Base58Check string; ChecksumError on a typo."""
    raw = base58_decode(text, alphabet=alphabet)
    if len(raw) < 5:
        raise CodecError("it is too short")
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ChecksumError()
    return payload


def base58check_encode(payload: bytes, *, alphabet: bytes = base58.BITCOIN_ALPHABET) -> str:
    return base58.b58encode_check(payload, alphabet=alphabet).decode()


_SS58_CONTEXT = b"SS58PRE"


@dataclass(frozen=True, slots=True)
class Ss58Decoded:
    prefix: int  # the network: 0 Polkadot, 2 Kusama, 42 generic Substrate
    account: bytes


def ss58_decode(text: str) -> Ss58Decoded:
    """An SS58 account address (32-byte account id): network prefix and account, checksum checked.

    Format: base58(prefix (1 byte below 64, else 2 bytes) + account + blake2b-512("SS58PRE" +
    prefix + account)[:2]).
    """
    raw = base58_decode(text)
    if not raw:
        raise CodecError("it is empty")
    if raw[0] < 64:
        prefix, prefix_length = raw[0], 1
    elif raw[0] < 128 and len(raw) >= 2:
        # Two-byte prefixes: 14 bits spread over both bytes (SS58 spec).
        lower = ((raw[0] & 0x3F) << 2) | (raw[1] >> 6)
        upper = raw[1] & 0x3F
        prefix, prefix_length = lower | (upper << 8), 2
    else:
        raise CodecError("it is not well formed")
    body = raw[prefix_length:]
    if len(body) != 32 + 2:
        raise CodecError("it is not the length of an account address")
    account, checksum = body[:32], body[32:]
    digest = hashlib.blake2b(_SS58_CONTEXT + raw[: prefix_length + 32], digest_size=64).digest()
    if digest[:2] != checksum:
        raise ChecksumError()
    return Ss58Decoded(prefix=prefix, account=account)


def ss58_encode(prefix: int, account: bytes) -> str:
    if prefix >= 64:
        raise ValueError("only one-byte prefixes are encoded here")
    body = bytes([prefix]) + account
    digest = hashlib.blake2b(_SS58_CONTEXT + body, digest_size=64).digest()
    return base58.b58encode(body + digest[:2]).decode()


def _alphabet_chars(alphabet: bytes) -> set[bytes]:
    return {bytes([b]) for b in alphabet}


def _never(chars: list[str]) -> str:
    return "which is never part of" if len(chars) == 1 else "which are never part of"


def _quote(chars: list[str]) -> str:
    shown = [f"“{c}”" if c.strip() else "a space" for c in chars]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
