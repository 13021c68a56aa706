"""Withdrawal addresses are checked by each chain's real rules, against the published test vectors.

The vectors under tests/security/data/ are copied unchanged from their sources (each file names
its repository, path and commit): BIP-173 and BIP-350 (Bech32, Bech32m and segwit addresses),
Bitcoin Core's key_io_valid.json / key_io_invalid.json (Base58Check and segwit), EIP-55's test
cases and CIP-19's Cardano address vectors. The other formats are checked with well-known public
addresses and a one-character change of each.
"""

from __future__ import annotations

import json
import random
import string
from functools import cache
from pathlib import Path
from typing import Any

import ccxt
import pytest
from django.core.exceptions import ValidationError

from security.addresses import NETWORKS, network, networks_for, validate_address, validate_destination
from security.addresses.codecs import Bech32Variant, CodecError, base58check_encode, bech32_decode, ss58_encode
from security.addresses.formats import PARSERS, decode_bitcoin
from security.addresses.networks import ASSETS, EVM

DATA = Path(__file__).parent / "data"
CHECKSUM = "its checksum does not match. Copy it again from the wallet that gave it."
TESTNET = "it is a testnet address; coins sent to it are lost"


@cache
def vectors(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def refusal(asset: str, network_code: str, address: str, memo: str = "") -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        validate_destination(asset=asset, network=network_code, address=address, memo=memo)
    return caught.value.message_dict


def address_error(asset: str, network_code: str, address: str) -> str:
    errors = refusal(asset, network_code, address)
    assert list(errors) == ["address"]
    return errors["address"][0]


def one_character_changed(address: str, alphabet: str) -> str:
    """The address with its middle character swapped for the next one in the alphabet (same case)."""
    middle = len(address) // 2
    current = address[middle]
    lowered = alphabet.lower() == alphabet and current.isupper()
    index = alphabet.index(current.lower() if lowered else current)
    replacement = alphabet[(index + 1) % len(alphabet)]
    return address[:middle] + (replacement.upper() if lowered else replacement) + address[middle + 1 :]


BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
XRP_BASE58 = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


# --- Bech32 / Bech32m (BIP-173, BIP-350) ---------------------------------------------------------


@pytest.mark.parametrize("text", vectors("bip173_vectors.json")["valid_strings"])
def test_bip173_valid_strings_decode_as_bech32(text):
    assert bech32_decode(text).variant is Bech32Variant.BECH32


@pytest.mark.parametrize("text", vectors("bip350_vectors.json")["valid_strings"])
def test_bip350_valid_strings_decode_as_bech32m_and_never_as_bech32(text):
    assert bech32_decode(text).variant is Bech32Variant.BECH32M


@pytest.mark.parametrize(
    "case",
    vectors("bip173_vectors.json")["invalid_strings"] + vectors("bip350_vectors.json")["invalid_strings"],
    ids=lambda case: case["reason"],
)
def test_bip173_and_bip350_invalid_strings_are_refused(case):
    with pytest.raises(CodecError):
        bech32_decode(case["string"])


@pytest.mark.parametrize("case", vectors("bip350_vectors.json")["valid_addresses"], ids=lambda case: case["string"])
def test_bip350_valid_mainnet_addresses_are_accepted_and_testnet_ones_refused(case):
    address = case["string"]
    if address.lower().startswith("bc1"):
        assert validate_address(asset="BTC", network="BTC", address=address) == address.lower()
        assert decode_bitcoin(address).script_pubkey.hex() == case["script_pubkey"]
    else:
        assert address_error("BTC", "BTC", address) == f"This is not a Bitcoin address we can send to: {TESTNET}."


@pytest.mark.parametrize("case", vectors("bip173_vectors.json")["valid_addresses"], ids=lambda case: case["string"])
def test_bip173_version_0_addresses_are_accepted_and_its_bech32_v1_plus_ones_are_refused_as_bip350_says(case):
    """BIP-350 replaced Bech32 by Bech32m for witness versions 1 and up: BIP-173's own examples of
    those (bc1p..., bc1z..., BC1S...) now fail the checksum, as BIP-350 intends."""
    address = case["string"]
    version = BECH32.index(address.lower()[address.lower().rfind("1") + 1])
    if address.lower().startswith("tb1"):
        assert TESTNET in address_error("BTC", "BTC", address)
    elif version == 0:
        assert validate_address(asset="BTC", network="BTC", address=address) == address.lower()
        assert decode_bitcoin(address).script_pubkey.hex() == case["script_pubkey"]
    else:
        assert address_error("BTC", "BTC", address) == f"This is not a valid Bitcoin address: {CHECKSUM}"


@pytest.mark.parametrize(
    "case",
    vectors("bip173_vectors.json")["invalid_addresses"] + vectors("bip350_vectors.json")["invalid_addresses"],
    ids=lambda case: f"{case['reason']}: {case['string']}",
)
def test_bip173_and_bip350_invalid_addresses_are_refused_for_bitcoin(case):
    message = address_error("BTC", "BTC", case["string"])
    assert message.startswith(("This is not a valid Bitcoin address: ", "This is not a Bitcoin address we can send"))


def test_a_bech32_checksum_on_a_taproot_address_is_refused_as_a_typo():
    # BIP-350's example: the Bech32 (not Bech32m) checksum of a v1 program.
    message = address_error("BTC", "BTC", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd")
    assert message == f"This is not a valid Bitcoin address: {CHECKSUM}"


# --- Base58Check and segwit: Bitcoin Core's key_io vectors ---------------------------------------


KEY_IO_VALID = vectors("key_io_valid.json")["entries"]
MAINNET_ADDRESSES = [entry for entry in KEY_IO_VALID if entry[2]["chain"] == "main" and not entry[2]["isPrivkey"]]
OTHER_CHAIN_ADDRESSES = [entry for entry in KEY_IO_VALID if entry[2]["chain"] != "main" and not entry[2]["isPrivkey"]]
PRIVATE_KEYS = [entry for entry in KEY_IO_VALID if entry[2]["isPrivkey"]]


def test_the_key_io_vectors_hold_every_kind_of_mainnet_address():
    kinds = {decode_bitcoin(address).kind for address, _, _ in MAINNET_ADDRESSES}
    assert kinds == {"p2pkh", "p2sh", "segwit"}
    assert len(MAINNET_ADDRESSES) == 14


@pytest.mark.parametrize(("address", "script", "meta"), MAINNET_ADDRESSES, ids=lambda value: str(value)[:20])
def test_every_key_io_mainnet_address_is_accepted_for_bitcoin_and_pays_its_script(address, script, meta):
    assert validate_address(asset="BTC", network="BTC", address=address) == (
        address.lower() if meta.get("tryCaseFlip") else address
    )
    assert decode_bitcoin(address).script_pubkey.hex() == script
    if meta.get("tryCaseFlip"):
        assert validate_address(asset="BTC", network="btc", address=address.upper()) == address.lower()


@pytest.mark.parametrize(("address", "script", "meta"), OTHER_CHAIN_ADDRESSES, ids=lambda value: str(value)[:20])
def test_key_io_testnet_signet_and_regtest_addresses_are_refused_as_testnet(address, script, meta):
    assert address_error("BTC", "BTC", address) == f"This is not a Bitcoin address we can send to: {TESTNET}."


@pytest.mark.parametrize(("wif", "key", "meta"), PRIVATE_KEYS, ids=lambda value: str(value)[:12])
def test_a_private_key_pasted_as_an_address_is_refused_without_being_repeated(wif, key, meta):
    message = address_error("BTC", "BTC", wif)
    assert message.startswith("This is not a valid Bitcoin address: it is a private key, not an address. Never paste")
    assert wif not in message and key not in message


@pytest.mark.parametrize("address", vectors("key_io_invalid.json")["entries"], ids=lambda value: value[:24] or "empty")
def test_no_key_io_invalid_string_is_accepted_as_a_bitcoin_address(address):
    assert "address" in refusal("BTC", "BTC", address)


# --- EIP-55 and the EVM networks -----------------------------------------------------------------

EIP55 = [case["address"] for case in vectors("eip55_vectors.json")["checksummed"]]
EVM_NETWORKS = [(row.asset, row.code) for row in NETWORKS.values() if row.address_kind == EVM]


@pytest.mark.parametrize("address", EIP55)
@pytest.mark.parametrize(("asset", "code"), EVM_NETWORKS)
def test_eip55_test_cases_are_accepted_unchanged_on_every_evm_network(address, asset, code):
    assert validate_address(asset=asset, network=code, address=address) == address


@pytest.mark.parametrize("address", EIP55)
def test_an_address_without_a_checksum_all_lower_or_all_upper_comes_back_checksummed(address):
    assert validate_address(asset="ETH", network="ETH", address=address.lower()) == address
    assert validate_address(asset="ETH", network="ETH", address="0x" + address[2:].upper()) == address


@pytest.mark.parametrize("address", [case for case in EIP55 if case[2:] not in (case[2:].lower(), case[2:].upper())])
def test_an_eip55_address_with_one_letter_in_the_wrong_case_fails_its_checksum(address):
    position = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    flipped = address[:position] + address[position].swapcase() + address[position + 1 :]
    assert address_error("USDT", "ETH", flipped) == f"This is not a valid Ethereum (ERC-20) address: {CHECKSUM}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "it does not start with 0x"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "it has 39 characters after 0x instead of 40"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "it contains characters other than 0-9 and a-f after 0x"),
        ("0x0000000000000000000000000000000000000000", "it is the zero address, where anything sent is destroyed"),
    ],
)
def test_malformed_evm_addresses_say_what_is_wrong(text, reason):
    assert address_error("BNB", "BSC", text).startswith(
        f"This is not a valid BNB Smart Chain (BEP-20) address: {reason}."
    )


# --- Known public addresses of the other networks, and a one-character change ---------------------

KNOWN = [
    # (asset, network, address, alphabet for the one-character change, what it is)
    ("BTC", "BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", BASE58),  # the genesis block's coinbase
    ("ETH", "ETH", "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "0123456789abcdef"),  # Ethereum Foundation
    ("ETH", "ARBITRUM", "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045", "0123456789abcdef"),  # vitalik.eth
    ("LINK", "ETH", "0x514910771AF9Ca656af840dff83E8264EcF986CA", "0123456789abcdef"),  # the LINK token contract
    ("AVAX", "AVAXC", "0xB31f66AA3C1e785363F0875A1B74E27b85FD66c7", "0123456789abcdef"),  # WAVAX on C-Chain
    ("USDT", "TRX", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", BASE58),  # the USDT contract on Tron
    ("XRP", "XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", XRP_BASE58),  # the XRP Ledger's genesis account
    ("DOGE", "DOGE", "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", BASE58),  # a well-known large Dogecoin address
    ("DOT", "DOT", "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5", BASE58),  # the dev account Alice, Polkadot form
    ("ADA", "ADA", vectors("cip19_vectors.json")["mainnet"]["type-00"], BECH32),
]


@pytest.mark.parametrize(("asset", "code", "address", "alphabet"), KNOWN, ids=lambda value: str(value)[:16])
def test_a_known_public_address_is_accepted_and_a_one_character_change_fails_its_checksum(
    asset, code, address, alphabet
):
    assert validate_address(asset=asset, network=code, address=address) == address
    changed = one_character_changed(address, alphabet)
    assert changed != address
    assert address_error(asset, code, changed) == f"This is not a valid {network(asset, code).name} address: {CHECKSUM}"


@pytest.mark.parametrize(
    "address",
    [
        "So11111111111111111111111111111111111111112",  # wrapped SOL mint
        "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB",  # the USDT mint on Solana
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # the SPL token program
    ],
)
def test_solana_addresses_are_32_bytes_in_base58_and_a_truncated_or_mistyped_one_is_refused(address):
    """Solana addresses carry no checksum: a changed letter is another valid key. What can be
    checked is the alphabet and the length, which catch truncation and look-alike characters."""
    assert validate_address(asset="USDT", network="SOL", address=address) == address
    assert validate_address(asset="SOL", network="SOL", address=address) == address
    assert "not a valid Solana address" in address_error("SOL", "SOL", address[:-3])
    assert address_error("SOL", "SOL", address[:10] + "0" + address[11:]) == (
        "This is not a valid Solana address: it contains “0”, which is never part of this kind of address. "
        "Copy it again from the wallet that gave it."
    )


def test_a_dogecoin_p2sh_address_is_accepted_and_a_testnet_one_refused():
    script_hash = bytes.fromhex("373b819a068f32b7a6b38b6b38729647cfde01c2")
    assert validate_address(asset="DOGE", network="DOGE", address=base58check_encode(b"\x16" + script_hash))
    testnet = base58check_encode(b"\x71" + script_hash)
    assert address_error("DOGE", "DOGE", testnet) == f"This is not a Dogecoin address we can send to: {TESTNET}."


def test_the_hexadecimal_form_of_a_tron_address_is_refused_with_the_form_to_use():
    message = address_error("USDT", "TRX", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c")
    assert (
        message
        == "This is not a valid Tron (TRC-20) address: it is in hexadecimal form. Enter the form that starts with T."
    )


@pytest.mark.parametrize(
    "kind", ["type-00", "type-01", "type-02", "type-03", "type-04", "type-05", "type-06", "type-07"]
)
def test_cip19_mainnet_payment_addresses_are_accepted_upper_case_too(kind):
    address = vectors("cip19_vectors.json")["mainnet"][kind]
    assert validate_address(asset="ADA", network="ADA", address=address) == address
    assert validate_address(asset="ADA", network="ADA", address=address.upper()) == address


@pytest.mark.parametrize("kind", sorted(vectors("cip19_vectors.json")["testnet"]))
def test_cip19_testnet_addresses_are_refused(kind):
    message = address_error("ADA", "ADA", vectors("cip19_vectors.json")["testnet"][kind])
    assert TESTNET in message or "stake (reward) address" in message


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            vectors("cip19_vectors.json")["mainnet"]["type-14"],
            "This is not a valid Cardano address: it is a stake (reward) address. "
            "Send ADA to a payment address, starting with addr1.",
        ),
        (
            # CIP-19's Byron example.
            "37btjrVyb4KDXBNC4haBVPCrro8AQPHwvCMp3RFhhSVWwfFmZ6wwzSK6JK1hY6wHNmtrpTf1kdbva8TCneM2YsiXT7mrzT21EacHnPpz5YyUdj64na",
            "This is not a valid Cardano address: it is an old Byron-era address. "
            "Send ADA to a Shelley address (starting with addr1), which every current wallet shows.",
        ),
    ],
)
def test_cardano_stake_and_byron_addresses_are_refused_with_what_to_send_to(address, message):
    assert address_error("ADA", "ADA", address) == message


ALICE = bytes.fromhex("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")


def test_ss58_encodes_alice_as_polkadot_kusama_and_substrate_publish_her():
    assert ss58_encode(0, ALICE) == "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"
    assert ss58_encode(42, ALICE) == "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    assert ss58_encode(2, ALICE) == "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F"


@pytest.mark.parametrize(
    ("address", "chain"),
    [
        ("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "generic Substrate"),
        ("HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F", "Kusama"),
    ],
)
def test_the_same_account_in_kusama_or_substrate_form_is_refused_for_polkadot(address, chain):
    assert address_error("DOT", "DOT", address) == (
        f"This is not a Polkadot address we can send to: it is a {chain} address; Polkadot addresses start with 1 "
        "(your wallet can show the Polkadot form)."
    )


def test_an_xrp_x_address_is_refused_with_how_to_enter_it():
    message = address_error("XRP", "XRP", "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ")
    assert message == (
        "This is not a valid XRP Ledger address: it is an X-address. "
        "Enter the classic address (starting with r) and the destination tag separately."
    )


# --- The wrong network -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asset", "code", "address", "message"),
    [
        (
            "USDT",
            "TRX",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "This is an Ethereum (ERC-20) or BNB Smart Chain (BEP-20) address; you chose the Tron (TRC-20) network. "
            "Choose the network the address belongs to: coins sent on the wrong network are lost.",
        ),
        (
            "USDT",
            "ETH",
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
            "This is a Tron (TRC-20) address; you chose the Ethereum (ERC-20) network. "
            "Choose the network the address belongs to: coins sent on the wrong network are lost.",
        ),
        (
            "DOGE",
            "DOGE",
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "This is a Bitcoin address; you chose the Dogecoin network. "
            "DOGE on Dogecoin can go only to a Dogecoin address.",
        ),
        (
            "BTC",
            "BTC",
            "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L",
            "This is a Dogecoin address; you chose the Bitcoin network. "
            "BTC on Bitcoin can go only to a Bitcoin address.",
        ),
        (
            "DOT",
            "DOT",
            "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
            "This is an Ethereum (EVM) address; you chose the Polkadot network. "
            "DOT on Polkadot can go only to a Polkadot address.",
        ),
        (
            "SOL",
            "SOL",
            "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5",
            "This is a Polkadot address; you chose the Solana network. SOL on Solana can go only to a Solana address.",
        ),
    ],
)
def test_an_address_of_another_chain_names_that_chain_and_the_one_chosen(asset, code, address, message):
    assert address_error(asset, code, address) == message


# --- Memos and destination tags ------------------------------------------------------------------

XRP_ADDRESS = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"


@pytest.mark.parametrize(("memo", "canonical"), [("", ""), ("0", "0"), ("007", "7"), ("4294967295", "4294967295")])
def test_an_xrp_destination_tag_is_optional_and_a_number_up_to_2_to_the_32(memo, canonical):
    destination = validate_destination(asset="XRP", network="XRP", address=XRP_ADDRESS, memo=f" {memo} ")
    assert (destination.address, destination.memo) == (XRP_ADDRESS, canonical)


@pytest.mark.parametrize(
    ("memo", "reason"),
    [
        ("4294967296", "a destination tag is at most 4,294,967,295"),
        ("-1", "a destination tag is a whole number, digits only"),
        ("12a", "a destination tag is a whole number, digits only"),
        ("١٢", "a destination tag is a whole number, digits only"),
    ],
)
def test_a_destination_tag_that_is_not_a_32_bit_number_is_refused(memo, reason):
    assert refusal("XRP", "XRP", XRP_ADDRESS, memo) == {"memo": [f"This is not a valid destination tag: {reason}."]}


def test_a_memo_on_a_network_without_memos_is_refused_together_with_a_bad_address():
    errors = refusal("BTC", "BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", memo="12345")
    assert errors == {
        "address": [f"This is not a valid Bitcoin address: {CHECKSUM}"],
        "memo": ["Bitcoin withdrawals have no memo; leave it empty."],
    }


# --- What people paste -------------------------------------------------------------------------


def test_spaces_and_line_breaks_around_an_address_are_dropped():
    assert validate_address(asset="BTC", network="BTC", address="  1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n") == (
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the Bitcoin address to send BTC to."),
        (
            "1A1zP1eP5QGef i2DMPTfTL5SLmv7DivfNa",
            "This is not a valid Bitcoin address: it contains spaces or invisible characters. "
            "Copy it again from the wallet that gave it.",
        ),
        (
            "1A1zP1eP5QGefi2DMP\u200bTfTL5SLmv7DivfNa",
            "This is not a valid Bitcoin address: it contains spaces or invisible characters. "
            "Copy it again from the wallet that gave it.",
        ),
        (
            "bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa?amount=0.1",
            "This is a payment link, not an address: enter only the address after “bitcoin:”, "
            "without anything after a question mark.",
        ),
        (
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfN\u0430",  # the last letter is a Cyrillic a
            "This is not a valid Bitcoin address: it contains characters that are not part of any address "
            "(look-alike letters?). Copy it again from the wallet that gave it.",
        ),
        ("1" * 201, "This is too long to be a Bitcoin address. Copy only the address."),
    ],
)
def test_what_people_paste_by_mistake_gets_a_message_that_says_what_to_do(text, message):
    assert address_error("BTC", "BTC", text) == message


def test_garbage_on_every_network_is_a_validation_error_never_a_crash():
    generator = random.Random(12)
    alphabet = string.ascii_letters + string.digits + " :?-_.\u200b\u0430\u00e9"
    samples = ["", "0x", "bc1", "addr1", "r", "T", "1", "\x00", "0" * 64, "z" * 199]
    samples += ["".join(generator.choice(alphabet) for _ in range(generator.randint(1, 120))) for _ in range(150)]
    samples += [one_character_changed(address, alphabet_) for _, _, address, alphabet_ in KNOWN]
    for row in NETWORKS.values():
        for text in samples:
            try:
                validate_destination(asset=row.asset, network=row.code, address=text, memo=text[:10])
            except ValidationError as error:
                assert set(error.message_dict) <= {"address", "memo"}


# --- The networks table ---------------------------------------------------------------------------


def test_every_asset_of_the_issue_can_be_withdrawn_on_at_least_one_network():
    assert set(ASSETS) == {"BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK", "USDT"}
    assert [row.code for row in networks_for("usdt")] == ["ETH", "TRX", "BSC", "SOL"]
    assert [row.code for row in networks_for("LINK")] == ["ETH", "BSC"]
    assert networks_for("XMR") == []


def test_every_network_has_a_parser_a_fee_below_its_minimum_and_a_network_binance_knows():
    binance = ccxt.binance()
    for row in NETWORKS.values():
        assert row.address_kind in PARSERS
        assert 0 <= row.fee < row.min_withdrawal
        assert binance.network_code_to_id(row.ccxt_network, row.asset) == row.code


@pytest.mark.parametrize(("typed", "code"), [("TRC20", "TRX"), ("erc-20", "ETH"), ("BEP20", "BSC"), ("trx", "TRX")])
def test_networks_can_be_named_the_way_people_write_them(typed, code):
    assert network("USDT", typed).code == code


def test_a_network_an_asset_does_not_travel_on_lists_the_ones_it_does():
    with pytest.raises(ValidationError) as caught:
        validate_address(asset="USDT", network="DOGE", address="DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L")
    assert caught.value.message_dict == {
        "network": [
            "USDT cannot be withdrawn on Dogecoin. Choose one of: Ethereum (ERC-20) (ETH), Tron (TRC-20) (TRX), "
            "BNB Smart Chain (BEP-20) (BSC), Solana (SOL)."
        ]
    }


def test_an_unknown_network_or_asset_is_a_field_error_not_a_key_error():
    with pytest.raises(ValidationError) as caught:
        network("BTC", "LIGHTNING")
    assert caught.value.message_dict == {
        "network": ["LIGHTNING is not a network we know for BTC. Choose one of: Bitcoin (BTC)."]
    }
    with pytest.raises(ValidationError) as caught:
        network("XMR", "XMR")
    assert list(caught.value.message_dict) == ["asset"]
