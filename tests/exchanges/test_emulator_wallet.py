"""The emulator's Binance wallet endpoints, as ccxt's own client sees them: withdraw/apply with its
signature and permission checks and Binance's error codes, the withdrawal history and its statuses
(refunded on failure), and the deposit address per network."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from tests.exchanges.conftest import BINANCE_KEY, BINANCE_SECRET


@pytest.fixture
def client(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key(
        "binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET, can_withdraw=True, balances={"USDT": "100"}
    )
    return binance_client_factory()


def test_a_withdrawal_debits_the_balance_and_is_followed_to_completion(client, exchange_emulator):
    sent = client.withdraw(
        "USDT", "30", "TXYZabcdefghijklmnopqrstuvwxyz1234", {"network": "TRX", "withdrawOrderId": "w1"}
    )
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT") == (Decimal("70"), Decimal("0"))

    [pending] = client.fetch_withdrawals()
    assert (pending["id"], pending["status"], pending["network"]) == (sent["id"], "pending", "TRC20")
    assert (pending["amount"], pending["fee"]["cost"]) == (29.0, 1.0)  # Binance reports what travels, fee apart
    assert pending["info"]["withdrawOrderId"] == "w1"

    exchange_emulator.settle_withdrawals("binance")
    [done] = client.fetch_withdrawals(None, None, None, {"withdrawOrderId": "w1"})
    assert done["status"] == "ok" and done["txid"].startswith("0x")


def test_a_failed_withdrawal_is_refunded(client, exchange_emulator):
    client.withdraw("USDT", "30", "TXYZabcdefghijklmnopqrstuvwxyz1234", {"network": "TRX"})
    exchange_emulator.settle_withdrawals("binance", failed=True)
    assert client.fetch_withdrawals()[0]["status"] == "failed"
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT")[0] == Decimal("100")


@pytest.mark.parametrize(
    ("amount", "network", "code"),
    [("500", "TRX", "-4026"), ("5", "TRX", "-4022"), ("20", "DOGE", "-4019")],
)
def test_refusals_carry_binances_codes_and_move_nothing(client, exchange_emulator, amount, network, code):
    with pytest.raises(ccxt.ExchangeError, match=code):
        client.withdraw("USDT", amount, "TXYZabcdefghijklmnopqrstuvwxyz1234", {"network": network})
    assert exchange_emulator.balance("binance", BINANCE_KEY, "USDT")[0] == Decimal("100")
    assert client.fetch_withdrawals() == []


def test_a_key_without_withdrawals_enabled_is_not_authorized(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key("binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET)
    with pytest.raises(ccxt.AuthenticationError, match="-1002"):
        binance_client_factory().withdraw("USDT", "20", "TXYZabcdefghijklmnopqrstuvwxyz1234", {"network": "TRX"})


def test_a_bad_signature_is_refused_before_anything_moves(exchange_emulator, binance_client_factory):
    exchange_emulator.add_key("binance", api_key=BINANCE_KEY, secret=BINANCE_SECRET, can_withdraw=True)
    wrong = binance_client_factory(secret="not-the-secret")
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        wrong.withdraw("USDT", "20", "TXYZabcdefghijklmnopqrstuvwxyz1234", {"network": "TRX"})
    assert exchange_emulator.withdrawals("binance", BINANCE_KEY) == []


def test_the_deposit_address_is_stable_per_account_and_network(client):
    trx = client.fetch_deposit_address("USDT", {"network": "TRX"})
    assert trx == client.fetch_deposit_address("USDT", {"network": "TRX"})
    assert trx["address"].startswith("T") and trx["tag"] is None
    assert client.fetch_deposit_address("USDT", {"network": "BSC"})["address"].startswith("0x")
    assert client.fetch_deposit_address("XRP", {"network": "XRP"})["tag"]
