"""Deposits through the services: simulated paper deposits (a `deposit` ledger entry, the cost basis, a cap
valued at the current price, the notification) and an exchange account's deposit address asked of the
exchange through ccxt (the emulator), with clear refusals when it cannot answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Notification
from security.models import AuditEvent
from tests.trading.helpers import held, paper_account, synced_exchange_account, tick
from tests.trading.wallet_helpers import person
from trading.errors import AccountInactive
from trading.ledger_check import check_ledger
from trading.models import LedgerEntry
from trading.services.deposits import deposit_address, paper_deposit
from trading.wallet_errors import DepositAddressUnavailable, NoDepositAddress, NotAPaperAccountForDeposit

pytestmark = pytest.mark.django_db


@pytest.fixture
def paper(secured_owner):
    return paper_account(secured_owner)


def test_a_simulated_deposit_is_a_deposit_entry_costing_its_market_value(paper, settings):
    tick({"ETH/USDT": "3000"})
    entry = paper_deposit(actor=person(paper.user), account=paper, asset="eth", amount="2.5")

    assert (entry.kind, entry.asset, entry.amount) == ("deposit", "ETH", Decimal("2.5"))
    balance = held(paper, "ETH")
    assert balance.total == Decimal("2.5") and balance.cost_basis == Decimal("3000")
    assert check_ledger(account_ids=[paper.pk]).ok
    assert AuditEvent.objects.filter(action="deposit.simulated", details__asset="ETH").exists()
    notice = Notification.objects.get(user=paper.user, event="wallet.deposit_received")
    assert "2.5 ETH" in notice.body


def test_a_simulated_deposit_is_capped_at_its_value_in_usdt(paper, settings):
    settings.PAPER_DEPOSIT_MAX_USDT = "1000"
    tick({"BTC/USDT": "50000"})
    with pytest.raises(ValidationError) as refused:
        paper_deposit(actor=person(paper.user), account=paper, asset="BTC", amount="0.03")
    assert "at most 1,000 USDT worth" in refused.value.message_dict["amount"][0]
    paper_deposit(actor=person(paper.user), account=paper, asset="BTC", amount="0.02")
    assert not LedgerEntry.objects.filter(account=paper, asset="BTC").exclude(amount=Decimal("0.02")).exists()


@pytest.mark.parametrize(
    ("asset", "amount", "field"),
    [("XYZ", "1", "asset"), ("USDT", "0", "amount"), ("USDT", "1_000", "amount"), ("USDT", "0.000000001", "amount")],
)
def test_bad_input_writes_nothing(paper, asset, amount, field):
    with pytest.raises(ValidationError) as refused:
        paper_deposit(actor=person(paper.user), account=paper, asset=asset, amount=amount)
    assert field in refused.value.message_dict
    assert LedgerEntry.objects.filter(account=paper).count() == 1  # the opening deposit only


def test_an_exchange_account_takes_no_simulated_deposit_and_a_paper_account_has_no_address(
    paper, secured_owner, emulated_exchanges, binance_keys
):
    account = synced_exchange_account(secured_owner, binance_keys)
    with pytest.raises(NotAPaperAccountForDeposit):
        paper_deposit(actor=person(secured_owner), account=account, asset="USDT", amount="10")
    with pytest.raises(NoDepositAddress):
        deposit_address(actor=person(secured_owner), account=paper, asset="USDT", network="TRX")


def test_the_exchange_gives_a_stable_address_per_network_with_its_tag(secured_owner, emulated_exchanges, binance_keys):
    account = synced_exchange_account(secured_owner, binance_keys)
    first = deposit_address(actor=person(secured_owner), account=account, asset="XRP", network="XRP")
    again = deposit_address(actor=person(secured_owner), account=account, asset="XRP", network="XRP")
    other = deposit_address(actor=person(secured_owner), account=account, asset="USDT", network="ETH")
    assert first == again and first.address.startswith("r") and first.memo and first.memo_name == "destination tag"
    assert other.address.startswith("0x") and not other.memo
    assert AuditEvent.objects.filter(action="deposit_address.viewed").count() == 3


def test_an_exchange_that_cannot_answer_is_a_clear_503(secured_owner, emulated_exchanges, binance_keys):
    account = synced_exchange_account(secured_owner, binance_keys)
    emulated_exchanges.set_fault("binance", "maintenance")
    with pytest.raises(DepositAddressUnavailable, match="did not give a deposit address"):
        deposit_address(actor=person(secured_owner), account=account, asset="USDT", network="TRX")


def test_a_closed_paper_account_takes_no_deposit(paper):
    paper.is_active = False
    paper.save(update_fields=["is_active"])
    with pytest.raises(AccountInactive):
        paper_deposit(actor=person(paper.user), account=paper, asset="USDT", amount="100")
    assert LedgerEntry.objects.filter(account=paper).count() == 1  # the opening deposit only
    assert not AuditEvent.objects.filter(action="deposit.simulated").exists()
