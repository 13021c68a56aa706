"""The ledger's primitives: every balance change is one immutable entry, a total never goes below zero
or below what is locked (the service refuses it, and so does the database), money stays exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.trading.helpers import paper_account
from trading.errors import InsufficientFunds
from trading.ledger_check import check_ledger
from trading.models import Balance, EntryKind, LedgerEntry
from trading.models.ledger import ImmutableEntry
from trading.services.ledger import lock_balances, money, post_entry, release, reserve

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(owner):
    return paper_account(owner)


def test_locking_balances_creates_the_missing_ones_at_zero(account):
    with transaction.atomic():
        balances = lock_balances(account, ["SOL", "USDT", "BTC"])

    assert list(balances) == ["BTC", "SOL", "USDT"], "locked in asset order"
    assert balances["SOL"].total == 0 and balances["USDT"].total == Decimal("10000")
    assert Balance.objects.filter(account=account).count() == 3


def test_an_entry_moves_the_total_and_records_the_balance_after(account):
    with transaction.atomic():
        usdt = lock_balances(account, ["USDT"])["USDT"]
        entry = post_entry(balance=usdt, kind=EntryKind.WITHDRAWAL, amount=Decimal("-2500.25"), note="test")

    assert entry.balance_after == Decimal("7499.75")
    assert Balance.objects.get(pk=usdt.pk).total == Decimal("7499.75")
    assert check_ledger().ok


def test_an_entry_that_would_go_below_zero_is_refused_with_the_numbers(account):
    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        usdt = lock_balances(account, ["USDT"])["USDT"]
        post_entry(balance=usdt, kind=EntryKind.WITHDRAWAL, amount=Decimal("-10000.01"))

    assert refused.value.extra == {"asset": "USDT", "required": "10000.01", "available": "10000"}
    assert Balance.objects.get(account=account, asset="USDT").total == Decimal("10000")
    assert LedgerEntry.objects.filter(account=account).count() == 1


def test_locked_money_cannot_be_spent(account):
    with transaction.atomic():
        usdt = lock_balances(account, ["USDT"])["USDT"]
        reserve(balance=usdt, amount=Decimal("9000"))
    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        usdt = lock_balances(account, ["USDT"])["USDT"]
        post_entry(balance=usdt, kind=EntryKind.WITHDRAWAL, amount=Decimal("-1000.5"))
    assert refused.value.extra["available"] == "1000"


def test_reserving_more_than_is_available_is_refused_and_release_gives_it_back(account):
    with pytest.raises(InsufficientFunds), transaction.atomic():
        reserve(balance=lock_balances(account, ["USDT"])["USDT"], amount=Decimal("10000.000000000000000001"))
    with transaction.atomic():
        usdt = lock_balances(account, ["USDT"])["USDT"]
        reserve(balance=usdt, amount=Decimal("10000"))
        release(balance=usdt, amount=Decimal("4000"))

    usdt = Balance.objects.get(account=account, asset="USDT")
    assert (usdt.locked, usdt.available) == (Decimal("6000"), Decimal("4000"))


@pytest.mark.django_db(transaction=True)
def test_ledger_writes_refuse_to_run_outside_a_transaction(account):
    usdt = Balance.objects.get(account=account, asset="USDT")
    with pytest.raises(RuntimeError):
        post_entry(balance=usdt, kind=EntryKind.DEPOSIT, amount=Decimal("1"))


def test_entries_are_append_only(account):
    entry = LedgerEntry.objects.get(account=account)
    entry.amount = Decimal("1000000")
    with pytest.raises(ImmutableEntry):
        entry.save()
    with pytest.raises(ImmutableEntry):
        entry.delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("10000")


def test_the_database_itself_refuses_a_negative_balance_or_a_lock_over_the_total(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(account=account, asset="USDT").update(total=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.filter(account=account, asset="USDT").update(locked=Decimal("10000.5"))


@pytest.mark.usefixtures("postgresql")  # SQLite keeps decimals as floats (15 digits): NUMERIC is PostgreSQL's
def test_totals_keep_eighteen_decimals_exactly_past_pythons_default_precision(account):
    big = Decimal("123456789012.123456789012345678")  # 30 significant digits; Python's default keeps 28
    with transaction.atomic():
        sol = lock_balances(account, ["SOL"])["SOL"]
        post_entry(balance=sol, kind=EntryKind.DEPOSIT, amount=big)
        post_entry(balance=sol, kind=EntryKind.DEPOSIT, amount=Decimal("0.000000000000000001"))

    assert Balance.objects.get(pk=sol.pk).total == Decimal("123456789012.123456789012345679")
    assert money("0.0000000000000000004") == 0 and money("1.0000000000000000005") == Decimal("1")
    report = check_ledger()
    assert report.ok, [str(drift) for drift in report.drifts]
