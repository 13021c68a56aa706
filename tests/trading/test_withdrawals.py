"""Withdrawals from the paper account, through the services: the checks in front of a request (network,
amount, whitelist and cooldown, balance, daily limit, second factor), the ledger entries and their
invariants, cancelling while pending, and the hold before completion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.errors import InvalidCode, StepUpRequired
from accounts.models import Notification
from security.errors import WithdrawalAddressCoolingDown, WithdrawalAddressNotFound
from security.models import AuditEvent
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import unused_totp_code
from tests.trading.helpers import paper_account, tick
from tests.trading.wallet_helpers import (
    BTC_ADDRESS,
    EVM_ADDRESS,
    balance_of,
    nothing_withdrawn,
    person,
    whitelisted,
    withdraw,
)
from trading.ledger_check import check_ledger
from trading.models import LedgerEntry, Withdrawal, WithdrawalStatus
from trading.services.accounts import paper_account_reset
from trading.services.withdrawals import withdrawal_cancel, withdrawal_process, withdrawal_request, withdrawals_due
from trading.wallet_errors import (
    DailyLimitExceeded,
    PriceUnavailable,
    WithdrawalExceedsBalance,
    WithdrawalNotCancellable,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paper(secured_owner):
    return paper_account(secured_owner)


@pytest.fixture
def usdt_address(secured_owner):
    return whitelisted(secured_owner)


def test_a_paper_withdrawal_debits_the_ledger_at_once_and_waits_out_the_hold(paper, usdt_address, settings):
    settings.WITHDRAWAL_HOLD_SECONDS = 300
    withdrawal = withdraw(paper, usdt_address, amount="250.5")

    assert withdrawal.status == WithdrawalStatus.PENDING
    assert (withdrawal.amount, withdrawal.fee) == (Decimal("250.5"), Decimal("4"))
    assert withdrawal.address == EVM_ADDRESS and withdrawal.destination == usdt_address
    assert withdrawal.process_after - withdrawal.created_at == timedelta(seconds=300)
    assert balance_of(paper) == Decimal("9749.5")
    entry = LedgerEntry.objects.get(withdrawal=withdrawal)
    assert (entry.kind, entry.amount) == ("withdrawal", Decimal("-250.5"))
    assert check_ledger(account_ids=[paper.pk]).ok
    record = AuditEvent.objects.get(action="withdrawal.requested")
    assert record.details["amount"] == "250.5" and record.details["withdrawal_id"] == withdrawal.pk
    alert = Notification.objects.get(user=paper.user, event="security.withdrawal_requested")
    assert alert.priority == "critical" and "250.5 USDT" in alert.title

    assert withdrawals_due() == []  # still in its hold
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert withdrawals_due() == [withdrawal.pk]
        done = withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    assert done.status == WithdrawalStatus.COMPLETED and done.txid.startswith("paper-")
    assert balance_of(paper) == Decimal("9749.5")  # debited once, when requested
    assert Notification.objects.filter(user=paper.user, event="wallet.withdrawal_completed").exists()
    assert check_ledger(account_ids=[paper.pk]).ok


def test_cancelling_a_pending_withdrawal_gives_the_amount_back(paper, usdt_address):
    withdrawal = withdraw(paper, usdt_address, amount="1000")
    cancelled = withdrawal_cancel(actor=person(paper.user), withdrawal=withdrawal)

    assert cancelled.status == WithdrawalStatus.CANCELLED
    assert balance_of(paper) == Decimal("10000")
    entries = list(LedgerEntry.objects.filter(withdrawal=withdrawal).order_by("id").values_list("amount", "note"))
    assert [amount for amount, _ in entries] == [Decimal("-1000"), Decimal("1000")]
    assert "cancelled" in entries[1][1]
    assert check_ledger(account_ids=[paper.pk]).ok
    assert Notification.objects.filter(user=paper.user, event="wallet.withdrawal_cancelled").exists()
    # Once cancelled, neither the processor nor a second cancel can touch it.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal).status == WithdrawalStatus.CANCELLED
    with pytest.raises(WithdrawalNotCancellable):
        withdrawal_cancel(actor=person(paper.user), withdrawal=withdrawal)
    assert balance_of(paper) == Decimal("10000")


def test_a_paper_reset_cancels_pending_withdrawals_so_a_later_cancel_cannot_add_money(paper, usdt_address):
    withdrawal = withdraw(paper, usdt_address, amount="1000")
    paper_account_reset(actor=person(paper.user), account=paper)

    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.CANCELLED
    assert balance_of(paper) == Decimal("10000")  # the starting balance, nothing more
    with pytest.raises(WithdrawalNotCancellable):
        withdrawal_cancel(actor=person(paper.user), withdrawal=withdrawal)
    assert balance_of(paper) == Decimal("10000")
    assert check_ledger(account_ids=[paper.pk]).ok
    assert AuditEvent.objects.get(action="paper.reset").details["withdrawals_cancelled"] == 1


def test_a_completed_withdrawal_cannot_be_cancelled(paper, usdt_address):
    withdrawal = withdraw(paper, usdt_address)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        withdrawal_process(actor=TEST_ACTOR, withdrawal=withdrawal)
    with pytest.raises(WithdrawalNotCancellable, match="completed"):
        withdrawal_cancel(actor=person(paper.user), withdrawal=withdrawal)
    assert balance_of(paper) == Decimal("9900")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        pytest.param(
            {"amount": "5"}, "amount", "minimum withdrawal of USDT on Ethereum (ERC-20) is 10", id="below min"
        ),
        pytest.param({"amount": "1e-9"}, "amount", "at most 8 decimal places", id="too fine"),
        pytest.param({"amount": "-3"}, "amount", "greater than 0", id="negative"),
        pytest.param({"amount": "١٢"}, "amount", "digits 0-9", id="other digits"),
        pytest.param({"network": "LIGHTNING"}, "network", "not a network we know for USDT", id="unknown network"),
        pytest.param(
            {"asset": "BTC", "network": "BTC"}, "destination", "choose one for BTC", id="address of other asset"
        ),
        pytest.param({"destination_id": None}, "destination", "whitelist-only", id="no destination"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_written(paper, usdt_address, fields, field, words):
    values = {"destination_id": usdt_address.pk, **fields}
    with pytest.raises(ValidationError) as refused:
        withdraw(paper, amount=values.pop("amount", "100"), **values)
    assert words in " ".join(refused.value.message_dict[field])
    assert nothing_withdrawn(paper) and balance_of(paper) == Decimal("10000")


def test_more_than_the_available_balance_is_refused_with_the_numbers(paper, usdt_address):
    with pytest.raises(WithdrawalExceedsBalance) as refused:
        withdraw(paper, usdt_address, amount="10000.01")
    assert refused.value.extra == {"asset": "USDT", "required": "10000.01", "available": "10000"}
    assert refused.value.field == "amount"
    assert nothing_withdrawn(paper)


def test_an_address_still_cooling_down_is_refused(paper, secured_owner):
    fresh = whitelisted(secured_owner, cooled=False)
    with pytest.raises(WithdrawalAddressCoolingDown):
        withdraw(paper, fresh)
    assert nothing_withdrawn(paper)


def test_another_users_address_is_not_found(paper, outsider, usdt_address):
    from security.models import WithdrawalAddress

    theirs = WithdrawalAddress.objects.create(
        user=outsider,
        asset="USDT",
        network="ETH",
        address=EVM_ADDRESS,
        label="Theirs",
        usable_from=timezone.now() - timedelta(days=2),
    )
    with pytest.raises(WithdrawalAddressNotFound):
        withdraw(paper, amount="100", destination_id=theirs.pk)
    assert nothing_withdrawn(paper)


def test_a_wrong_second_factor_code_is_refused_and_nothing_is_written(paper, usdt_address):
    with pytest.raises(InvalidCode):
        withdrawal_request(
            actor=person(paper.user),
            account=paper,
            asset="USDT",
            network="ETH",
            amount="100",
            destination_id=usdt_address.pk,
            otp_code="000000",
        )
    with pytest.raises(StepUpRequired):
        withdrawal_request(
            actor=person(paper.user),
            account=paper,
            asset="USDT",
            network="ETH",
            amount="100",
            destination_id=usdt_address.pk,
        )
    assert nothing_withdrawn(paper)


def test_a_current_code_stands_for_the_step_up(paper, usdt_address):
    withdrawal = withdrawal_request(
        actor=person(paper.user),
        account=paper,
        asset="USDT",
        network="ETH",
        amount="100",
        destination_id=usdt_address.pk,
        otp_code=unused_totp_code(paper.user),
    )
    assert withdrawal.status == WithdrawalStatus.PENDING


def test_the_daily_limit_counts_the_last_24_hours_at_current_prices(paper, secured_owner, settings):
    settings.WITHDRAWAL_DAILY_LIMIT_USDT = "1000"
    tick({"BTC/USDT": "50000"})
    from trading.services.deposits import paper_deposit

    paper_deposit(actor=TEST_ACTOR, account=paper, asset="BTC", amount="1")
    usdt = whitelisted(secured_owner)
    btc = whitelisted(secured_owner, asset="BTC", network="BTC", address=BTC_ADDRESS, label="Cold")

    withdraw(paper, usdt, amount="600")
    withdraw(paper, btc, amount="0.008")  # 400 USDT: exactly at the limit
    with pytest.raises(DailyLimitExceeded) as refused:
        withdraw(paper, usdt, amount="10")
    assert refused.value.extra == {"limit": "1,000.00", "used": "1,000.00", "requested": "10.00"}
    assert Withdrawal.objects.count() == 2

    tick({"BTC/USDT": "25000"})  # valued at today's price: the BTC withdrawal now counts for 200
    withdraw(paper, usdt, amount="150")

    # A cancelled withdrawal no longer counts; a day later nothing does.
    cancelled = Withdrawal.objects.get(amount=Decimal("600"))
    withdrawal_cancel(actor=person(paper.user), withdrawal=cancelled)
    withdraw(paper, usdt, amount="600")
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1)):
        tick({"BTC/USDT": "25000"})
        withdraw(paper, usdt, amount="999")
    assert check_ledger(account_ids=[paper.pk]).ok


def test_without_a_current_price_the_limit_is_not_waved_through(paper, secured_owner, settings, monkeypatch):
    from exchanges.market.feed import MarketUnavailable
    from trading.services.deposits import paper_deposit

    tick({"BTC/USDT": "50000"})
    paper_deposit(actor=TEST_ACTOR, account=paper, asset="BTC", amount="0.1")
    btc = whitelisted(secured_owner, asset="BTC", network="BTC", address=BTC_ADDRESS, label="Cold")

    def no_price(symbol):
        raise MarketUnavailable()

    monkeypatch.setattr("trading.prices.current_ticker", no_price)
    with pytest.raises(PriceUnavailable, match="no current BTC/USDT price"):
        withdraw(paper, btc, amount="0.01")
    assert not Withdrawal.objects.exists()


def test_with_whitelist_only_mode_off_a_typed_address_is_checked_by_its_checksum(paper, secured_owner):
    secured_owner.withdrawal_whitelist_only = False
    secured_owner.save(update_fields=["withdrawal_whitelist_only"])
    with pytest.raises(ValidationError) as refused:
        withdraw(paper, amount="100", address=EVM_ADDRESS.replace("a", "A", 1))
    assert "address" in refused.value.message_dict
    assert nothing_withdrawn(paper)

    withdrawal = withdraw(paper, amount="100", address=EVM_ADDRESS.lower())
    assert withdrawal.address == EVM_ADDRESS and withdrawal.destination is None  # stored with its checksum


def test_turning_whitelist_only_off_does_not_let_a_typed_address_skip_the_cooldown(paper, secured_owner, settings):
    """Someone holding the session and one code turns the mode off and withdraws at once: refused until the
    cooldown a new whitelisted address would wait out is over (frozen clock)."""
    from security.services.whitelist import whitelist_mode_set

    settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS = 24
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        whitelist_mode_set(actor=person(secured_owner, proved=True), whitelist_only=False)
        paper = type(paper).objects.select_related("user").get(pk=paper.pk)  # the next request reads it afresh
        with pytest.raises(ValidationError) as refused:
            withdraw(paper, amount="100", address=EVM_ADDRESS)
    assert "whitelist-only withdrawals stay on until" in refused.value.message_dict["destination"][0]
    assert nothing_withdrawn(paper)

    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False), pytest.raises(ValidationError):
        withdraw(paper, amount="100", address=EVM_ADDRESS)
    assert nothing_withdrawn(paper)

    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        withdrawal = withdraw(paper, amount="100", address=EVM_ADDRESS)
    assert withdrawal.destination is None and withdrawal.address == EVM_ADDRESS


def test_the_audit_record_of_a_withdrawal_names_the_whole_destination_address(paper, usdt_address):
    """An EIP-55 address mixes cases like a key, but it is public: the log must say where the money went."""
    withdrawal = withdraw(paper, usdt_address, amount="100")
    details = AuditEvent.objects.get(action="withdrawal.requested").details
    assert details["address"] == EVM_ADDRESS == withdrawal.address
    assert (details["asset"], details["network"]) == ("USDT", "ETH")


def test_balances_never_go_negative_and_open_orders_keep_their_reservation(paper, usdt_address):
    from tests.trading.helpers import place

    tick({"BTC/USDT": "50000"})
    place(paper, side="buy", type="limit", quantity="0.1", price="40000")  # reserves 4000 USDT (plus fee)
    with pytest.raises(WithdrawalExceedsBalance):
        withdraw(paper, usdt_address, amount="7000")
    withdraw(paper, usdt_address, amount="5000")
    assert check_ledger(account_ids=[paper.pk]).ok


def test_verify_ledger_names_a_paper_withdrawal_whose_debit_is_missing(paper):
    from trading.ledger_check import check_withdrawals

    stray = Withdrawal.objects.create(
        account=paper,
        asset="USDT",
        network="ETH",
        address=EVM_ADDRESS,
        amount=Decimal("50"),
        fee=Decimal("4"),
        process_after=timezone.now(),
    )
    drifts = check_withdrawals([paper.pk]).drifts
    assert [str(drift) for drift in drifts] == [
        f"account {paper.pk} withdrawal {stray.pk}: pending: entries none, expected -50"
    ]
