"""`manage.py verify_ledger`: OK on a ledger the services wrote, and each kind of drift found, named and
answered with exit status 1 (the drift is made the way a bug would: an UPDATE behind the services' back)."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import TEST_ACTOR, UserFactory
from tests.trading.helpers import paper_account, tick
from trading.models import Balance, LedgerEntry, Order
from trading.services.orders import order_place

pytestmark = pytest.mark.django_db


def verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def traded(owner):
    """An account with a filled buy, a resting limit and a resting stop."""
    tick({"BTC/USDT": "50000"})
    account = paper_account(owner)
    place = {"actor": TEST_ACTOR, "account": account, "symbol": "BTC/USDT"}
    order_place(**place, side="buy", type="market", quantity="0.1")
    order_place(**place, side="buy", type="limit", quantity="0.01", price="40000")
    order_place(**place, side="sell", type="stop_loss", quantity="0.05", stop_price="45000")
    return account


def test_a_ledger_written_by_the_services_verifies_clean(traded):
    code, out = verify()

    assert code == 0
    assert out.count(": OK") == 6, out
    assert "Ledger OK: no drift." in out


def test_a_total_changed_behind_the_ledgers_back_is_reported_with_both_numbers(traded):
    Balance.objects.filter(account=traded, asset="BTC").update(total=Decimal("0.2"))

    code, out = verify()

    assert code == 1
    assert f"account {traded.pk} BTC: total 0.2 but its entries sum to 0.1" in out
    assert "Ledger drift" in out


def test_a_lock_no_open_order_explains_is_reported(traded):
    Balance.objects.filter(account=traded, asset="USDT").update(locked=Decimal("1"))

    code, out = verify()

    assert code == 1
    assert f"account {traded.pk} USDT: locked 1 but its open orders reserve 400.4" in out


def test_a_broken_balance_after_chain_is_reported_once(traded):
    entry = LedgerEntry.objects.filter(account=traded, asset="USDT").order_by("id").first()
    LedgerEntry.objects.filter(pk=entry.pk).update(balance_after=Decimal("9999"))

    code, out = verify()

    assert code == 1
    assert f"entry {entry.pk} says balance_after 9999" in out
    assert out.count("says balance_after") == 1


def test_fills_that_do_not_add_up_to_the_filled_quantity_are_reported(traded):
    order = Order.objects.get(account=traded, type="market")
    Order.objects.filter(pk=order.pk).update(filled_quantity=Decimal("0.3"))

    code, out = verify()

    assert code == 1
    assert f"order {order.pk}: filled quantity 0.3 but its fills add up to 0.1" in out


def test_the_account_filter_checks_only_that_account(traded):
    other = paper_account(UserFactory())
    Balance.objects.filter(account=other, asset="USDT").update(total=Decimal("1"))

    assert verify("--account", str(traded.pk))[0] == 0
    assert verify("--account", str(other.pk))[0] == 1


def test_an_unknown_account_is_an_error_not_a_clean_bill(traded):
    code, out = verify("--account", "999999")
    assert code == 1 and "No trading account with id 999999" in out


def test_amounts_with_more_digits_than_a_float_keeps_verify_clean_on_every_database(owner):
    """A quote-amount buy at an odd price makes 17-digit amounts; SQLite (the demo) keeps 15 of them."""
    tick({"BTC/USDT": "65432.17"})
    account = paper_account(owner)
    for amount in ("123.45", "77.7777", "1000"):
        order_place(
            actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="buy", type="market", quote_amount=amount
        )
    order_place(actor=TEST_ACTOR, account=account, symbol="BTC/USDT", side="sell", type="market", quantity="0.01")

    code, out = verify()

    assert code == 0, out
    assert "Ledger OK: no drift." in out


def test_a_real_drift_is_still_found_where_amounts_are_compared_to_fifteen_digits(traded):
    usdt = Balance.objects.get(account=traded, asset="USDT")
    Balance.objects.filter(pk=usdt.pk).update(total=usdt.total + Decimal("0.01"))

    code, out = verify()

    assert code == 1
    assert "DRIFT" in out
