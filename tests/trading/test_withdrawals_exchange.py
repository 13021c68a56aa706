"""Withdrawals from exchange accounts, through ccxt against the loopback emulator (never a mock): the key's
withdrawal permission, the hold, the one submission, status tracking to completed or failed, a lost
answer found again by our client id, and the balance read back from the exchange."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Notification
from security.models import AuditEvent
from tests.conftest import APP_BINANCE_KEYS
from tests.factories import TEST_ACTOR
from tests.trading.helpers import synced_exchange_account
from tests.trading.wallet_helpers import EVM_ADDRESS, balance_of, nothing_withdrawn, whitelisted, withdraw
from trading.ledger_check import check_ledger
from trading.models import LedgerEntry, Withdrawal, WithdrawalStatus
from trading.services.live import account_sync
from trading.services.withdrawals import client_id, withdrawal_process, withdrawals_due, withdrawals_track
from trading.tasks import process_withdrawals
from trading.wallet_errors import WithdrawalExceedsBalance, WithdrawalNotPermitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawing_keys(emulated_exchanges):
    """A Binance key with "Enable Withdrawals" on (10000 USDT, 0.5 BTC)."""
    emulated_exchanges.add_key("binance", **APP_BINANCE_KEYS, can_withdraw=True)
    return dict(APP_BINANCE_KEYS)


@pytest.fixture
def exchange_account(secured_owner, withdrawing_keys):
    account = synced_exchange_account(secured_owner, withdrawing_keys)
    assert account.connection.key_can_withdraw is True
    return account


@pytest.fixture
def usdt_address(secured_owner):
    return whitelisted(secured_owner)


def after_hold():
    return time_machine.travel(timezone.now() + timedelta(hours=1), tick=True)


def test_an_exchange_withdrawal_is_sent_once_after_the_hold_and_followed_to_completion(
    exchange_account, usdt_address, emulated_exchanges
):
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert balance_of(exchange_account) == Decimal("10000")  # the money is the exchange's until it leaves
    assert not LedgerEntry.objects.filter(withdrawal=withdrawal).exists()
    assert emulated_exchanges.withdrawals("binance", APP_BINANCE_KEYS["api_key"]) == []

    with after_hold():
        process_withdrawals.apply()
        process_withdrawals.apply()  # a second run (another worker, the next minute) sends nothing again
    withdrawal.refresh_from_db()
    sent = emulated_exchanges.withdrawals("binance", APP_BINANCE_KEYS["api_key"])
    assert len(sent) == 1
    assert (sent[0].coin, sent[0].network, sent[0].address, sent[0].amount) == ("USDT", "ETH", EVM_ADDRESS, 100)
    assert sent[0].client_id == client_id(withdrawal)
    assert withdrawal.status == WithdrawalStatus.SUBMITTED and withdrawal.exchange_withdrawal_id == sent[0].id
    assert balance_of(exchange_account) == Decimal("9900")  # read back from the exchange at once
    assert AuditEvent.objects.filter(action="withdrawal.submitted", details__withdrawal_id=withdrawal.pk).exists()

    emulated_exchanges.settle_withdrawals("binance")
    assert withdrawals_track(actor=TEST_ACTOR) == 1
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.COMPLETED and withdrawal.txid == sent[0].txid
    assert Notification.objects.filter(user=exchange_account.user, event="wallet.withdrawal_completed").exists()
    assert account_sync(actor=TEST_ACTOR, account=exchange_account).adjustments == 0
    assert check_ledger(account_ids=[exchange_account.pk]).ok


def test_a_withdrawal_the_exchange_fails_is_marked_failed_and_its_refund_is_read_back(
    exchange_account, usdt_address, emulated_exchanges
):
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    with after_hold():
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    assert balance_of(exchange_account) == Decimal("9900")

    emulated_exchanges.settle_withdrawals("binance", failed=True)
    withdrawals_track(actor=TEST_ACTOR)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.FAILED
    assert "failed" in withdrawal.failure_reason
    assert balance_of(exchange_account) == Decimal("10000")  # the exchange gave it back
    alert = Notification.objects.get(user=exchange_account.user, event="wallet.withdrawal_failed")
    assert "funds stay on the exchange account" in alert.body
    assert check_ledger(account_ids=[exchange_account.pk]).ok


def test_a_key_without_the_withdrawal_permission_is_refused_before_anything_is_written(
    secured_owner, emulated_exchanges, binance_keys, usdt_address
):
    account = synced_exchange_account(secured_owner, binance_keys)  # the emulator's default: no withdrawals
    assert account.connection.key_can_withdraw is False
    with pytest.raises(WithdrawalNotPermitted, match="not allowed to withdraw"):
        withdraw(account, usdt_address)
    assert nothing_withdrawn(account)


def test_a_key_whose_permission_was_withdrawn_at_the_exchange_fails_with_the_reason(
    exchange_account, usdt_address, emulated_exchanges
):
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    emulated_exchanges.add_key("binance", **APP_BINANCE_KEYS, can_withdraw=False)  # turned off on the exchange
    with after_hold():
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.FAILED
    assert "not allowed to withdraw" in withdrawal.failure_reason
    assert emulated_exchanges.balance("binance", APP_BINANCE_KEYS["api_key"], "USDT")[0] == Decimal("10000")


def test_pending_withdrawals_hold_back_their_amount_from_the_next_request(exchange_account, usdt_address):
    withdraw(exchange_account, usdt_address, amount="6000")
    with pytest.raises(WithdrawalExceedsBalance) as refused:
        withdraw(exchange_account, usdt_address, amount="5000")
    assert refused.value.extra["available"] == "4000"
    assert Withdrawal.objects.count() == 1


def test_an_answer_lost_in_a_timeout_is_found_again_by_our_client_id(
    exchange_account, usdt_address, emulated_exchanges, settings
):
    settings.EXCHANGE_TIMEOUT_SECONDS = 0.5
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    emulated_exchanges.set_fault("binance", "slow", seconds=1.5, only="POST /sapi/v1/capital/withdraw/apply")
    with after_hold():  # one clock for the app and the exchange, while the slow request is carried out
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
        withdrawal.refresh_from_db()
        assert withdrawal.status == WithdrawalStatus.SUBMITTED and withdrawal.exchange_withdrawal_id == ""

        emulated_exchanges.set_fault("binance", None)
        time.sleep(1.2)  # the exchange still carries out the request whose answer was lost
        withdrawals_track(actor=TEST_ACTOR)
    withdrawal.refresh_from_db()
    sent = emulated_exchanges.withdrawals("binance", APP_BINANCE_KEYS["api_key"])
    assert len(sent) == 1 and withdrawal.exchange_withdrawal_id == sent[0].id
    assert withdrawal.status == WithdrawalStatus.SUBMITTED  # found, still processing there: sent exactly once


def test_a_withdrawal_the_exchange_never_received_fails_after_a_while(
    exchange_account, usdt_address, emulated_exchanges
):
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    emulated_exchanges.stop()  # the exchange is down: a refused connection, the outcome unknown
    with after_hold():
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.SUBMITTED
    emulated_exchanges.start()
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        withdrawals_track(actor=TEST_ACTOR)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.FAILED and "never received" in withdrawal.failure_reason


def test_only_due_withdrawals_are_processed(exchange_account, usdt_address, emulated_exchanges):
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    assert withdrawals_due() == []
    withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)  # asked too early: nothing happens
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert emulated_exchanges.withdrawals("binance", APP_BINANCE_KEYS["api_key"]) == []
