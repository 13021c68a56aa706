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
from trading.services.withdrawals import (
    UNCONFIRMED_AFTER,
    client_id,
    withdrawal_process,
    withdrawals_due,
    withdrawals_track,
)
from trading.tasks import process_withdrawals
from trading.wallet_errors import DailyLimitExceeded, WithdrawalExceedsBalance, WithdrawalNotPermitted

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
    failed = AuditEvent.objects.get(action="withdrawal.failed", details__withdrawal_id=withdrawal.pk)
    assert failed.outcome == "failure"  # found by the activity's outcome=failure filter
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


def sent_while_down(account, address, emulated_exchanges, amount):
    """A withdrawal whose sending met a refused connection: the outcome unknown, submitted without an id."""
    withdrawal = withdraw(account, address, amount=amount)
    emulated_exchanges.stop()
    with after_hold():
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    emulated_exchanges.start()
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.SUBMITTED and withdrawal.exchange_withdrawal_id == ""
    return withdrawal


def test_a_withdrawal_the_exchange_has_not_listed_stays_sent_and_keeps_counting(
    exchange_account, usdt_address, emulated_exchanges, settings
):
    """Absence from a listing is no answer (listings page and lag): the withdrawal may have left, so it is
    neither failed nor released, and it keeps counting against the balance and the daily limit."""
    settings.WITHDRAWAL_DAILY_LIMIT_USDT = "5000"
    withdrawal = sent_while_down(exchange_account, usdt_address, emulated_exchanges, "3000")
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=True):
        assert withdrawals_track(actor=TEST_ACTOR) == 0
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.SUBMITTED and withdrawal.failure_reason == ""
    assert not Notification.objects.filter(user=exchange_account.user, event="wallet.withdrawal_failed").exists()

    with pytest.raises(DailyLimitExceeded):  # 3000 + 3000 > 5000: the unanswered one still counts
        withdraw(exchange_account, usdt_address, amount="3000")
    settings.WITHDRAWAL_DAILY_LIMIT_USDT = "50000"
    with pytest.raises(WithdrawalExceedsBalance) as refused:
        withdraw(exchange_account, usdt_address, amount="8000")
    assert refused.value.extra["available"] == "7000"


def test_an_unanswered_withdrawal_is_flagged_for_an_operator_after_a_day_but_never_failed_by_absence(
    exchange_account, usdt_address, emulated_exchanges, caplog
):
    withdrawal = sent_while_down(exchange_account, usdt_address, emulated_exchanges, "3000")
    later = timezone.now() + UNCONFIRMED_AFTER + timedelta(hours=1)
    with time_machine.travel(later, tick=True), caplog.at_level("ERROR", logger="trading.services.withdrawals"):
        withdrawals_track(actor=TEST_ACTOR)
        withdrawals_track(actor=TEST_ACTOR)  # the next run looks again, and flags nothing twice
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.SUBMITTED
    assert "has not confirmed" in withdrawal.failure_reason and "operator" in withdrawal.failure_reason
    flagged = [r for r in caplog.records if r.levelname == "ERROR" and getattr(r, "withdrawal_id", None)]
    assert [r.withdrawal_id for r in flagged] == [withdrawal.pk]
    with pytest.raises(WithdrawalExceedsBalance) as refused:
        withdraw(exchange_account, usdt_address, amount="8000")
    assert refused.value.extra["available"] == "7000"


def test_a_sent_withdrawal_whose_answer_was_lost_still_holds_its_amount_back(
    exchange_account, usdt_address, emulated_exchanges, settings
):
    """The exchange took 6000 but we never heard (nor read the balance again): 10000 here, 4000 there."""
    settings.EXCHANGE_TIMEOUT_SECONDS = 0.5
    withdrawal = withdraw(exchange_account, usdt_address, amount="6000")
    emulated_exchanges.set_fault("binance", "slow", seconds=1.5, only="POST /sapi/v1/capital/withdraw/apply")
    with after_hold():
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
        emulated_exchanges.set_fault("binance", None)
        time.sleep(1.2)  # the exchange carries out the request whose answer was lost
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.SUBMITTED
    assert emulated_exchanges.balance("binance", APP_BINANCE_KEYS["api_key"], "USDT")[0] == Decimal("4000")
    assert balance_of(exchange_account) == Decimal("10000")
    with pytest.raises(WithdrawalExceedsBalance) as refused:
        withdraw(exchange_account, usdt_address, amount="5000")
    assert refused.value.extra["available"] == "4000"
    assert Withdrawal.objects.count() == 1


def test_a_balance_read_failing_after_sending_is_logged_and_the_amount_stays_held_until_confirmed(
    exchange_account, usdt_address, emulated_exchanges, caplog
):
    withdrawal = withdraw(exchange_account, usdt_address, amount="6000")
    emulated_exchanges.set_fault("binance", "maintenance", only="GET /api/v3/account")
    with after_hold(), caplog.at_level("WARNING", logger="trading.services.withdrawals"):
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    emulated_exchanges.set_fault("binance", None)
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.SUBMITTED and withdrawal.exchange_withdrawal_id
    assert balance_of(exchange_account) == Decimal("10000")  # not read again: the next sync corrects it
    warned = [r for r in caplog.records if r.levelname == "WARNING" and "balance" in r.getMessage()]
    assert [getattr(r, "withdrawal_id", None) for r in warned] == [withdrawal.pk]
    with pytest.raises(WithdrawalExceedsBalance):
        withdraw(exchange_account, usdt_address, amount="5000")

    account_sync(actor=TEST_ACTOR, account=exchange_account)
    assert balance_of(exchange_account) == Decimal("4000")
    emulated_exchanges.settle_withdrawals("binance")
    assert withdrawals_track(actor=TEST_ACTOR) == 1  # confirmed: no longer held back
    assert withdraw(exchange_account, usdt_address, amount="3000").status == WithdrawalStatus.PENDING
    assert check_ledger(account_ids=[exchange_account.pk]).ok


def test_only_due_withdrawals_are_processed(exchange_account, usdt_address, emulated_exchanges):
    withdrawal = withdraw(exchange_account, usdt_address, amount="100")
    assert withdrawals_due() == []
    withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)  # asked too early: nothing happens
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert emulated_exchanges.withdrawals("binance", APP_BINANCE_KEYS["api_key"]) == []
