"""Withdrawals under contention, on PostgreSQL (row locks and conditional updates are what is proven; see
conftest's `postgresql`): requests racing for one balance never overdraw it, racing requests never pass
the daily limit together, and a cancel racing the processor (or two processors) leaves one outcome."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from security.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account
from tests.trading.test_concurrency import in_threads
from tests.trading.wallet_helpers import balance_of, person, whitelisted, withdraw
from trading.ledger_check import check_ledger
from trading.models import LedgerEntry, Withdrawal, WithdrawalStatus
from trading.services.accounts import paper_account_reset
from trading.services.withdrawals import withdrawal_cancel, withdrawal_process
from trading.wallet_errors import WithdrawalNotCancellable

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


def _lock_waits() -> int:
    """Backends of this test database waiting for a lock (row or table) now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_request_committing_during_a_paper_reset_is_cancelled_by_it_never_credited_on_top(paper, secured_owner):
    """The race of review M5, made certain: the request has inserted its withdrawal (not committed) and holds
    its rows when the reset starts (its audit insert is held up by a table lock taken here), then both go on.
    The reset waits for the request (the same first lock, the user row), sees the withdrawal and cancels it:
    the account ends at the starting balance, and no later cancel can credit the amount on top of it."""
    address = whitelisted(secured_owner)
    table = AuditEvent._meta.db_table
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold_the_audit_table():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def run(name, call):
        try:
            outcome[name] = call()
        except Exception as error:  # the outcome under test
            outcome[name] = error
        finally:
            connection.close()

    blocker = threading.Thread(target=hold_the_audit_table)
    blocker.start()
    assert locked.wait(timeout=15)
    request = threading.Thread(target=run, args=("request", lambda: withdraw(paper, address, amount="3000")))
    request.start()
    assert _until(lambda: _lock_waits() >= 1)  # the request waits on its audit insert, its withdrawal written
    reset = threading.Thread(
        target=run, args=("reset", lambda: paper_account_reset(actor=person(paper.user), account=paper))
    )
    reset.start()
    _until(lambda: _lock_waits() >= 2)  # the reset waits for the request's rows
    release.set()
    for thread in (blocker, request, reset):
        thread.join(timeout=30)

    assert isinstance(outcome["request"], Withdrawal), outcome
    assert not isinstance(outcome["reset"], Exception), outcome
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == WithdrawalStatus.CANCELLED  # the reset came after it and cancelled it
    assert balance_of(paper) == Decimal("10000")
    with pytest.raises(WithdrawalNotCancellable):
        withdrawal_cancel(actor=person(paper.user), withdrawal=withdrawal)
    assert balance_of(paper) == Decimal("10000")
    assert check_ledger(account_ids=[paper.pk]).ok


def test_requests_and_cancels_racing_resets_end_before_the_reset_or_on_its_fresh_balance(paper, secured_owner):
    """Free-running races (no deadlock: the three take the user's row first): a request ends cancelled by the
    reset or pending on its fresh balance; the earlier withdrawal is cancelled by one of the two, once."""
    address = whitelisted(secured_owner)
    for _round in range(5):
        earlier = withdraw(paper, address, amount="1000")
        results = in_threads(
            [
                lambda: withdraw(paper, address, amount="3000"),
                lambda: paper_account_reset(actor=person(paper.user), account=paper),
                lambda w=earlier: withdrawal_cancel(actor=person(paper.user), withdrawal=w),
            ],
            threads=3,
        )
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, WithdrawalNotCancellable)]
        earlier.refresh_from_db()
        assert earlier.status == WithdrawalStatus.CANCELLED
        assert LedgerEntry.objects.filter(withdrawal=earlier, amount__gt=0).count() == 1
        pending = list(Withdrawal.objects.filter(status=WithdrawalStatus.PENDING))
        assert len(pending) <= 1
        # Before the reset: cancelled by it (10000). After it: pending on the fresh balance (7000).
        assert balance_of(paper) == Decimal("10000") - 3000 * len(pending)
        for withdrawal in pending:
            withdrawal_cancel(actor=person(paper.user), withdrawal=withdrawal)
        assert balance_of(paper) == Decimal("10000")
    assert check_ledger(account_ids=[paper.pk]).ok
