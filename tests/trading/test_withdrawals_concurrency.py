"""Withdrawals under contention, on PostgreSQL (row locks and conditional updates are what is proven; see
conftest's `postgresql`): requests racing for one balance never overdraw it, racing requests never pass
the daily limit together, and a cancel racing the processor (or two processors) leaves one outcome."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account
from tests.trading.test_concurrency import in_threads
from tests.trading.wallet_helpers import balance_of, person, whitelisted, withdraw
from trading.ledger_check import check_ledger
from trading.models import LedgerEntry, Withdrawal, WithdrawalStatus
from trading.services.withdrawals import withdrawal_cancel, withdrawal_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql")]


@pytest.fixture
def paper(secured_owner):
    return paper_account(secured_owner)


def test_requests_racing_for_one_balance_never_overdraw_it(paper, secured_owner):
    address = whitelisted(secured_owner)
    results = in_threads([lambda: withdraw(paper, address, amount="3000") for _ in range(10)], threads=10)

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"Withdrawal": 3, "WithdrawalExceedsBalance": 7}, outcomes
    assert balance_of(paper) == Decimal("1000")
    assert LedgerEntry.objects.filter(account=paper, kind="withdrawal").count() == 3
    assert check_ledger(account_ids=[paper.pk]).ok


def test_requests_racing_never_pass_the_daily_limit_together(paper, secured_owner, settings):
    settings.WITHDRAWAL_DAILY_LIMIT_USDT = "1000"
    address = whitelisted(secured_owner)
    results = in_threads([lambda: withdraw(paper, address, amount="400") for _ in range(8)], threads=8)

    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes == {"Withdrawal": 2, "DailyLimitExceeded": 6}, outcomes
    assert balance_of(paper) == Decimal("9200")


def test_a_cancel_racing_the_processor_has_exactly_one_outcome(paper, secured_owner):
    address = whitelisted(secured_owner)
    withdrawals = [withdraw(paper, address, amount="100") for _ in range(6)]
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=True):
        calls = []
        for withdrawal in withdrawals:
            calls.append(lambda w=withdrawal: withdrawal_cancel(actor=person(paper.user), withdrawal=w))
            calls.append(lambda w=withdrawal: withdrawal_process(actor=TEST_ACTOR, withdrawal=w))
            calls.append(lambda w=withdrawal: withdrawal_process(actor=TEST_ACTOR, withdrawal=w))
        in_threads(calls, threads=len(calls))

    statuses = Counter(Withdrawal.objects.values_list("status", flat=True))
    assert sum(statuses.values()) == 6 and set(statuses) <= {WithdrawalStatus.CANCELLED, WithdrawalStatus.COMPLETED}
    cancelled = statuses[WithdrawalStatus.CANCELLED]
    assert balance_of(paper) == Decimal("10000") - 100 * (6 - cancelled)
    for withdrawal in Withdrawal.objects.all():
        credits = LedgerEntry.objects.filter(withdrawal=withdrawal, amount__gt=0).count()
        assert credits == (1 if withdrawal.status == WithdrawalStatus.CANCELLED else 0)
    assert check_ledger(account_ids=[paper.pk]).ok
