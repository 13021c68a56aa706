"""Daily equity snapshots, the analytics issue's equity curve: one row per user per UTC day, the
portfolio's value at the current prices with its per-asset breakdown, taken again without
duplicates, for everyone in a few queries per batch of users.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR, UserFactory
from tests.trading.helpers import paper_account, publish
from trading.models import Balance, EntryKind, EquitySnapshot
from trading.services import portfolio as snapshots
from trading.services.accounts import exchange_account_close, exchange_account_open
from trading.services.ledger import lock_balances, post_entry
from trading.services.portfolio import equity_snapshot_take, snapshots_take_all

D = Decimal


def holds(account, asset: str, quantity: str, cost_basis: str = "0") -> None:
    with transaction.atomic():
        balance = lock_balances(account, [asset])[asset]
        post_entry(balance=balance, kind=EntryKind.ADJUSTMENT, amount=D(quantity))
        Balance.objects.filter(pk=balance.pk).update(cost_basis=D(cost_basis))


@pytest.mark.django_db
def test_a_snapshot_holds_the_total_value_and_each_assets_quantity_price_and_value(owner):
    holds(paper_account(owner), "BTC", "0.5", "60000")
    holds(paper_account(owner), "PEPE", "1000")
    publish({"BTC/USDT": "64000"})

    snapshot = equity_snapshot_take(user=owner)

    assert snapshot.date == datetime.now(UTC).date()
    assert snapshot.total_value == 42000, "10,000 USDT + 0.5 x 64,000; PEPE has no price"
    assert snapshot.holdings == {
        "USDT": {"quantity": "10000", "price": "1", "value": "10000"},
        "BTC": {"quantity": "0.5", "price": "64000", "value": "32000"},
        "PEPE": {"quantity": "1000", "price": None, "value": None},
    }


@pytest.mark.django_db
def test_taking_the_days_snapshot_again_replaces_it_with_the_new_value(owner):
    holds(paper_account(owner), "BTC", "1", "60000")
    publish({"BTC/USDT": "60000"})
    first = equity_snapshot_take(user=owner, day=date(2026, 5, 1))
    publish({"BTC/USDT": "61000"})
    again = equity_snapshot_take(user=owner, day=date(2026, 5, 1))

    assert again.pk == first.pk and EquitySnapshot.objects.filter(user=owner).count() == 1
    assert EquitySnapshot.objects.get(user=owner).total_value == 71000


@pytest.mark.django_db
def test_each_day_has_its_own_row_and_the_history_reads_them_in_order(owner):
    paper_account(owner)
    publish({"BTC/USDT": "60000"})
    for day in (date(2026, 5, 2), date(2026, 5, 1)):
        equity_snapshot_take(user=owner, day=day)
    assert list(EquitySnapshot.objects.filter(user=owner).order_by("date").values_list("date", "total_value")) == [
        (date(2026, 5, 1), D("10000")),
        (date(2026, 5, 2), D("10000")),
    ]


@pytest.mark.django_db
def test_everyone_with_an_active_account_gets_a_snapshot_and_the_count_says_how_many(owner, outsider):
    holds(paper_account(owner), "BTC", "1")
    paper_account(outsider)
    UserFactory()  # no trading account: nothing to value
    publish({"BTC/USDT": "50000"})
    seen: list[tuple[int, int]] = []

    taken = snapshots_take_all(day=date(2026, 6, 1), on_progress=lambda done, total: seen.append((done, total)))

    assert taken == 2 and seen == [(2, 2)]
    assert dict(EquitySnapshot.objects.values_list("user_id", "total_value")) == {
        owner.pk: D("60000"),
        outsider.pk: D("10000"),
    }


@pytest.mark.django_db
def test_running_the_days_snapshots_twice_leaves_one_row_per_user(owner, outsider):
    paper_account(owner), paper_account(outsider)
    publish({"BTC/USDT": "50000"})
    assert snapshots_take_all(day=date(2026, 6, 1)) == 2
    holds(paper_account(owner), "USDT", "5")
    assert snapshots_take_all(day=date(2026, 6, 1)) == 2
    assert EquitySnapshot.objects.count() == 2
    assert EquitySnapshot.objects.get(user=owner).total_value == D("10005"), "the second run's value"


@pytest.mark.django_db
def test_a_user_holding_nothing_gets_a_zero_so_the_curve_has_no_gap(owner):
    account = paper_account(owner)
    with transaction.atomic():
        post_entry(balance=lock_balances(account, ["USDT"])["USDT"], kind=EntryKind.WITHDRAWAL, amount=D("-10000"))
    assert snapshots_take_all(day=date(2026, 6, 1)) == 1
    snapshot = EquitySnapshot.objects.get(user=owner)
    assert snapshot.total_value == 0 and snapshot.holdings == {}


@pytest.mark.django_db
def test_a_closed_exchange_account_alone_takes_no_snapshot(owner, exchange_emulator, binance_keys):
    connection = connect(owner, binance_keys)
    exchange_account_open(actor=TEST_ACTOR, connection=connection)
    exchange_account_close(actor=TEST_ACTOR, connection=connection)
    assert snapshots_take_all() == 0 and not EquitySnapshot.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("users", [2, 9])
def test_everyones_snapshots_cost_three_queries_per_batch_however_many_users_it_holds(
    users, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(snapshots, "BATCH_SIZE", 10)
    for _ in range(users):
        holds(paper_account(UserFactory()), "BTC", "0.1")
    publish({"BTC/USDT": "50000"})

    # The users with an account, then for the one batch: their balances, the upsert.
    with django_assert_num_queries(3):
        assert snapshots_take_all(day=date(2026, 6, 1)) == users
    assert EquitySnapshot.objects.filter(total_value=D("15000")).count() == users


@pytest.mark.django_db
def test_progress_is_told_after_each_batch_of_users(monkeypatch):
    monkeypatch.setattr(snapshots, "BATCH_SIZE", 10)
    for _ in range(12):
        paper_account(UserFactory())
    publish({"BTC/USDT": "50000"})
    seen: list[tuple[int, int]] = []
    assert snapshots_take_all(on_progress=lambda done, total: seen.append((done, total))) == 12
    assert seen == [(10, 12), (12, 12)]
