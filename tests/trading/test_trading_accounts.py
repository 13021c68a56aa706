"""Trading accounts: every verified user gets a paper account with 10,000 USDT, explained by the ledger;
a reset brings it back; every exchange connection gets its account, closed when revoked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress

from exchanges.services.connections import connection_revoke
from security.models import AuditEvent
from tests.exchanges.helpers import connect
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.authenticator import verify_email_of
from tests.trading.helpers import paper_account, tick
from trading.models import AccountKind, Balance, EntryKind, LedgerEntry, Order, OrderStatus, TradingAccount
from trading.services.accounts import NotAPaperAccount, paper_account_open, paper_account_reset
from trading.services.orders import order_place

pytestmark = pytest.mark.django_db


def usdt(account: TradingAccount) -> Balance:
    return Balance.objects.get(account=account, asset="USDT")


def test_verifying_an_email_opens_a_paper_account_with_ten_thousand_usdt(owner):
    assert not TradingAccount.objects.filter(user=owner).exists(), "no account before verification"

    verify_email_of(owner)

    account = TradingAccount.objects.get(user=owner)
    assert account.kind == AccountKind.PAPER
    assert usdt(account).total == Decimal("10000")
    deposit = LedgerEntry.objects.get(account=account)
    assert (deposit.kind, deposit.amount, deposit.balance_after) == (
        EntryKind.DEPOSIT,
        Decimal("10000"),
        Decimal("10000"),
    )


def test_confirming_the_email_again_never_opens_a_second_account_nor_deposits_twice(owner):
    verify_email_of(owner)
    address = EmailAddress.objects.get(user=owner)
    address.save()  # verified again (the admin, a second link)
    paper_account_open(actor=TEST_ACTOR, user=owner)

    assert TradingAccount.objects.filter(user=owner).count() == 1
    assert LedgerEntry.objects.filter(account__user=owner).count() == 1
    assert usdt(paper_account(owner)).total == Decimal("10000")


def test_an_unverified_user_has_no_paper_account_until_verified(owner):
    EmailAddress.objects.create(user=owner, email=owner.email, verified=False, primary=True)
    assert not TradingAccount.objects.filter(user=owner).exists()


def test_the_starting_balance_follows_the_setting(owner, settings):
    settings.PAPER_STARTING_BALANCE = "2500.5"
    assert usdt(paper_account(owner)).total == Decimal("2500.5")


def test_a_reset_cancels_open_orders_empties_every_asset_and_deposits_the_starting_balance_again(owner):
    account = paper_account(owner)
    tick({"BTC/USDT": "50000"})
    order_place(actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity="0.1")
    resting = order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="40000"
    ).order
    assert usdt(account).total < Decimal("5000")

    paper_account_reset(actor=TEST_ACTOR, account=account)

    resting.refresh_from_db()
    assert resting.status == OrderStatus.CANCELLED and resting.reserved_amount == 0
    balances = {b.asset: b for b in Balance.objects.filter(account=account)}
    assert balances["USDT"].total == Decimal("10000") and balances["USDT"].locked == 0
    assert balances["BTC"].total == 0 and balances["BTC"].realized_pnl == 0 and balances["BTC"].cost_basis == 0
    resets = LedgerEntry.objects.filter(account=account, kind=EntryKind.RESET)
    assert resets.count() == 3, "BTC emptied, USDT emptied, USDT deposited again"
    assert AuditEvent.objects.filter(user=owner, action="paper.reset").exists()


def test_an_exchange_account_cannot_be_reset(owner, binance_keys):
    connection = connect(owner, binance_keys)
    account = TradingAccount.objects.get(connection=connection)
    with pytest.raises(NotAPaperAccount):
        paper_account_reset(actor=TEST_ACTOR, account=account)


def test_connecting_an_exchange_opens_its_trading_account_and_revoking_closes_it(owner, binance_keys):
    connection = connect(owner, binance_keys)
    account = TradingAccount.objects.get(connection=connection)
    assert account.kind == AccountKind.EXCHANGE and account.is_active and account.user == owner

    connection_revoke(actor=TEST_ACTOR, connection=connection)

    account.refresh_from_db()
    assert not account.is_active


def test_two_users_each_get_their_own_paper_account():
    first, second = UserFactory(), UserFactory()
    assert paper_account(first) != paper_account(second)
    assert Order.objects.count() == 0


def test_deleting_the_user_account_cancels_open_orders_and_frees_their_money(owner):
    from accounts.services.your_data import account_delete

    account = paper_account(owner)
    tick({"BTC/USDT": "50000"})
    resting = order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="limit", quantity="0.01", price="40000"
    ).order

    account_delete(actor=TEST_ACTOR, user=owner)

    resting.refresh_from_db()
    assert resting.status == OrderStatus.CANCELLED
    assert usdt(account).locked == 0
    tick({"BTC/USDT": "30000"})
    assert not resting.fills.exists(), "a deleted account's order never fills"


def test_the_data_export_holds_the_orders_trades_and_transactions(owner):
    from accounts.services.your_data import user_data_export

    account = paper_account(owner)
    tick({"BTC/USDT": "50000"})
    order = order_place(
        actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quantity="0.01"
    ).order

    export = user_data_export(actor=TEST_ACTOR, user=owner)

    assert [o["id"] for o in export["orders"]] == [order.pk]
    assert export["trades"][0]["quantity"] == "0.010000000000000000" or export["trades"][0]["quantity"].startswith(
        "0.01"
    )
    assert {t["kind"] for t in export["transactions"]} == {"deposit", "trade", "fee"}
    assert export["trading_accounts"][0]["kind"] == "paper"


@pytest.mark.django_db(transaction=True)
def test_users_verified_before_paper_trading_existed_get_their_account_from_the_migration():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("trading", "0002_ledger_orders")], [("trading", "0003_paper_accounts_for_verified_users")]
    MigrationExecutor(connection).migrate(before)
    try:
        verified, unverified = UserFactory(), UserFactory()
        # Rows written without signals, as they were before trading listened to verification.
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=verified, email=verified.email, verified=True, primary=True),
                EmailAddress(user=unverified, email=unverified.email, verified=False, primary=True),
            ]
        )
        assert not TradingAccount.objects.exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        # On to the latest schema, which the models below read (later migrations add columns).
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    account = TradingAccount.objects.get()
    assert account.user == verified and account.kind == AccountKind.PAPER
    assert usdt(account).total == Decimal("10000")
    assert LedgerEntry.objects.get(account=account).kind == EntryKind.DEPOSIT
