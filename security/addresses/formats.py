"""One parser per address format: text in, canonical address out, or `CodecError` saying why not.

Mainnet only: a testnet, signet or regtest address raises `OtherNetworkError`, since a coin sent
from a mainnet account to one is lost. Parsers look at the string alone (no node, no explorer).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import base58
from Crypto.Hash import keccak

from security.addresses import networks
from security.addresses.codecs import (
    Bech32Variant,
    ChecksumError,
    CodecError,
    base58_decode,
    base58check_decode,
    bech32_decode,
    convert_bits,
    ss58_decode,
)


class OtherNetworkError(CodecError):
    """The address is well formed but belongs to a test network or to another chain of the same family."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, advice="")


@dataclass(frozen=True, slots=True)
class BitcoinAddress:
    """A decoded Bitcoin address: its canonical text and the output script it pays to."""

    address: str
    kind: str  # p2pkh, p2sh, segwit
    script_pubkey: bytes


# --- Bitcoin ------------------------------------------------------------------------------------

_BTC_P2PKH, _BTC_P2SH = 0x00, 0x05
_BTC_TEST_VERSIONS = {0x6F, 0xC4}  # testnet, testnet4, signet and regtest share these
_WIF_VERSIONS = {0x80: "mainnet", 0xEF: "testnet"}
_SEGWIT_TEST_HRPS = {"tb", "bcrt"}


_BECH32_SHAPE = re.compile(r"[a-z]{2,83}1[02-9ac-hj-np-z]{6,}")


def _looks_bech32(text: str) -> bool:
    lowered = text.lower()
    return lowered.startswith(("bc1", "tb1", "bcrt1")) or bool(_BECH32_SHAPE.fullmatch(lowered))


def decode_bitcoin(text: str) -> BitcoinAddress:
    """Base58Check P2PKH (1...) and P2SH (3...), Bech32 v0 and Bech32m v1+ segwit (bc1...)."""
    if _looks_bech32(text):
        return _decode_segwit(text)
    payload = base58check_decode(text)
    version, body = payload[0], payload[1:]
    if version in _WIF_VERSIONS and len(body) in (32, 33):
        raise CodecError(
            "it is a private key, not an address",
            advice="Never paste it anywhere: anyone who has seen it can take the coins, so move them to a new wallet.",
        )
    if len(body) != 20:
        raise CodecError("it is not the length of an address")
    if version == _BTC_P2PKH:
        return BitcoinAddress(text, "p2pkh", b"\x76\xa9\x14" + body + b"\x88\xac")
    if version == _BTC_P2SH:
        return BitcoinAddress(text, "p2sh", b"\xa9\x14" + body + b"\x87")
    if version in _BTC_TEST_VERSIONS:
        raise OtherNetworkError("it is a testnet address; coins sent to it are lost")
    raise OtherNetworkError("it is an address of another coin, not Bitcoin")


def _decode_segwit(text: str) -> BitcoinAddress:
    decoded = bech32_decode(text)
    if decoded.hrp in _SEGWIT_TEST_HRPS:
        # Check the rest first: a mistyped testnet address is a typo before it is testnet.
        _segwit_program(decoded.data, decoded.variant)
        raise OtherNetworkError("it is a testnet address; coins sent to it are lost")
    if decoded.hrp != "bc":
        raise OtherNetworkError("it is an address of another coin, not Bitcoin")
    version, program = _segwit_program(decoded.data, decoded.variant)
    op_version = 0 if version == 0 else 0x50 + version
    script = bytes([op_version, len(program)]) + program
    return BitcoinAddress(text.lower(), "segwit", script)


def _segwit_program(data: list[int], variant: Bech32Variant) -> tuple[int, bytes]:
    """BIP-173/BIP-350 rules: version 0-16, 2-40 byte program, v0 of 20 or 32 bytes in Bech32,
    v1+ in Bech32m (a v1 address with a Bech32 checksum is a typo or old software)."""
    if not data:
        raise CodecError("it has no witness version")
    version = data[0]
    if version > 16:
        raise CodecError("its witness version is not one Bitcoin defines")
    program = bytes(convert_bits(data[1:], 5, 8, pad=False))
    if not 2 <= len(program) <= 40:
        raise CodecError("its witness program has the wrong length")
    if version == 0 and len(program) not in (20, 32):
        raise CodecError("its witness program has the wrong length for a version 0 address")
    expected = Bech32Variant.BECH32 if version == 0 else Bech32Variant.BECH32M
    if variant is not expected:
        raise ChecksumError()
    return version, program


def parse_bitcoin(text: str) -> str:
    return decode_bitcoin(text).address


# --- Dogecoin -----------------------------------------------------------------------------------

_DOGE_VERSIONS = {0x1E: "p2pkh", 0x16: "p2sh"}
_DOGE_TEST_VERSIONS = {0x71, 0xC4}


def parse_dogecoin(text: str) -> str:
    payload = base58check_decode(text)
    version, body = payload[0], payload[1:]
    if len(body) != 20:
        raise CodecError("it is not the length of an address")
    if version in _DOGE_VERSIONS:
        return text
    if version in _DOGE_TEST_VERSIONS:
        raise OtherNetworkError("it is a testnet address; coins sent to it are lost")
    raise OtherNetworkError("it is an address of another coin, not Dogecoin")


# --- Ethereum and other EVM chains (EIP-55) -----------------------------------------------------

_EVM_SHAPE = re.compile(r"0[xX][0-9a-fA-F]{40}")


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case form of a 0x-prefixed 40-hex-digit address."""
    hex_part = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=hex_part.encode("ascii")).hexdigest()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(hex_part, digest[:40], strict=True))


def parse_evm(text: str) -> str:
    """EIP-55: a mixed-case address must match its checksum; an all-lower or all-upper one carries no
    checksum and is accepted as written (nothing to check), returned in checksummed form."""
    if not _EVM_SHAPE.fullmatch(text):
        if not text.lower().startswith("0x"):
            raise CodecError("it does not start with 0x")
        if len(text) != 42:
            raise CodecError(f"it has {len(text) - 2} characters after 0x instead of 40")
        raise CodecError("it contains characters other than 0-9 and a-f after 0x")
    digits = text[2:]
    canonical = eip55_checksum(text)
    if digits != digits.lower() and digits != digits.upper() and canonical[2:] != digits:
        raise ChecksumError()
    if int(digits, 16) == 0:
        raise CodecError("it is the zero address, where anything sent is destroyed", advice="")
    return canonical


# --- Tron ---------------------------------------------------------------------------------------

_TRON_VERSION = 0x41


def parse_tron(text: str) -> str:
    if re.fullmatch(r"41[0-9a-fA-F]{40}", text):
        raise CodecError("it is in hexadecimal form", advice="Enter the form that starts with T.")
    payload = base58check_decode(text)
    if len(payload) != 21:
        raise CodecError("it is not the length of an address")
    if payload[0] != _TRON_VERSION:
        raise OtherNetworkError("it is an address of another chain, not Tron")
    return text


# --- Solana -------------------------------------------------------------------------------------


def parse_solana(text: str) -> str:
    """A Solana address is the Base58 form of 32 bytes (an ed25519 key or a program-derived
    address). It has no checksum, so only the alphabet and the length can be checked."""
    if not 32 <= len(text) <= 44:
        raise CodecError("it is not the length of an address (32 to 44 characters)")
    if len(base58_decode(text)) != 32:
        raise CodecError("it is not the length of an address")
    return text


# --- XRP Ledger ---------------------------------------------------------------------------------

_XRP_ACCOUNT_VERSION = 0x00
MAX_DESTINATION_TAG = 4_294_967_295


def parse_xrp(text: str) -> str:
    """A classic address (r...): Base58Check in the Ripple alphabet, version 0, 20-byte account."""
    if text.startswith(("X", "T")) and len(text) == 47:
        raise CodecError(
            "it is an X-address",
            advice="Enter the classic address (starting with r) and the destination tag separately.",
        )
    if not text.startswith("r"):
        raise CodecError("it does not start with r")
    payload = base58check_decode(text, alphabet=base58.XRP_ALPHABET)
    if payload[0] != _XRP_ACCOUNT_VERSION or len(payload) != 21:
        raise CodecError("it is not the length of an account address")
    return text


def parse_destination_tag(memo: str) -> str:
    if not memo.isascii() or not memo.isdigit():
        raise CodecError("a destination tag is a whole number, digits only")
    if int(memo) > MAX_DESTINATION_TAG:
        raise CodecError(f"a destination tag is at most {MAX_DESTINATION_TAG:,}")
    return str(int(memo))


# --- Cardano ------------------------------------------------------------------------------------

_CARDANO_MAX_LENGTH = 200  # Bech32's error detection holds up to 1023; Shelley addresses are ~58-110.
_CARDANO_MAINNET = 1


def parse_cardano(text: str) -> str:
    """A Shelley payment address (addr1...): Bech32 without the 90-character limit (CIP-19).

    Header byte: address type in the high nibble (0-3 base, 4-5 pointer, 6-7 enterprise),
    network id in the low nibble (1 = mainnet). Stake addresses (stake1...) receive rewards,
    not payments; Byron addresses (Ae2..., DdzFF...) predate Shelley.
    """
    if _is_byron(text):
        raise CodecError(
            "it is an old Byron-era address",
            advice="Send ADA to a Shelley address (starting with addr1), which every current wallet shows.",
        )
    decoded = bech32_decode(text, max_length=_CARDANO_MAX_LENGTH)
    if decoded.variant is not Bech32Variant.BECH32:
        raise ChecksumError()
    if decoded.hrp in ("stake", "stake_test"):
        raise CodecError("it is a stake (reward) address", advice="Send ADA to a payment address, starting with addr1.")
    if decoded.hrp == "addr_test":
        raise OtherNetworkError("it is a testnet address; coins sent to it are lost")
    if decoded.hrp != "addr":
        raise CodecError("it does not start with addr1")
    raw = bytes(convert_bits(decoded.data, 5, 8, pad=False))
    if not raw:
        raise CodecError("it is too short")
    address_type, network_id = raw[0] >> 4, raw[0] & 0x0F
    if network_id != _CARDANO_MAINNET:
        raise OtherNetworkError("it is a testnet address; coins sent to it are lost")
    if address_type > 7:
        raise CodecError("it is not a payment address")
    body = len(raw) - 1
    if (address_type <= 3 and body != 56) or (address_type >= 6 and body != 28):
        raise CodecError("it is not the length of an address")
    if address_type in (4, 5) and not 28 + 3 <= body <= 28 + 30:
        raise CodecError("it is not the length of an address")
    return text.lower()


_BYRON_CBOR_START = b"\x82\xd8\x18"  # CBOR: [tag 24 (embedded CBOR), ...]


def _is_byron(text: str) -> bool:
    """Byron addresses are Base58 of CBOR (Ae2..., DdzFF..., 37btjr...), no checksum to check here."""
    try:
        return base58_decode(text).startswith(_BYRON_CBOR_START)
    except CodecError:
        return False


# --- Polkadot (SS58) ----------------------------------------------------------------------------

_SS58_NETWORKS = {0: "Polkadot", 2: "Kusama", 42: "generic Substrate"}


def parse_polkadot(text: str) -> str:
    decoded = ss58_decode(text)
    if decoded.prefix != 0:
        chain = _SS58_NETWORKS.get(decoded.prefix, f"network {decoded.prefix}")
        raise OtherNetworkError(
            f"it is a {chain} address; Polkadot addresses start with 1 (your wallet can show the Polkadot form)"
        )
    return text


PARSERS: dict[str, Callable[[str], str]] = {
    networks.BITCOIN: parse_bitcoin,
    networks.EVM: parse_evm,
    networks.TRON: parse_tron,
    networks.SOLANA: parse_solana,
    networks.XRP_LEDGER: parse_xrp,
    networks.CARDANO: parse_cardano,
    networks.DOGECOIN: parse_dogecoin,
    networks.POLKADOT: parse_polkadot,
}
