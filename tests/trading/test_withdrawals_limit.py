"""The daily limit's edges: its setting is checked when the process starts (a malformed value never reaches
a request as a 500), and the prices it needs are read before any row is locked (a slow or missing price
never holds the user's row, which every request, cancel and paper reset of that user waits for)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cryptovault.test_settings import run_django
from tests.factories import TEST_ACTOR
from tests.trading.helpers import paper_account, tick
from tests.trading.wallet_helpers import BTC_ADDRESS, whitelisted, withdraw
from trading.models import Withdrawal
from trading.wallet_errors import PriceUnavailable


@pytest.mark.parametrize(
    ("variable", "value", "debug"),
    [
        ("WITHDRAWAL_DAILY_LIMIT_USDT", "50,000", "true"),
        ("WITHDRAWAL_DAILY_LIMIT_USDT", "-1", "true"),
        ("WITHDRAWAL_DAILY_LIMIT_USDT", "NaN", "false"),
        ("WITHDRAWAL_DAILY_LIMIT_USDT", "Infinity", "true"),
        ("PAPER_DEPOSIT_MAX_USDT", "fifty", "true"),
        ("PAPER_STARTING_BALANCE", "-1", "true"),
    ],
)
def test_a_malformed_amount_setting_refuses_to_start_naming_the_variable(variable, value, debug):
    result = run_django({"DEBUG": debug, variable: value})
    assert result.returncode != 0
    assert f"{variable} must be" in result.stderr and "started" not in result.stdout


def test_a_well_formed_limit_starts():
    result = run_django({"WITHDRAWAL_DAILY_LIMIT_USDT": "2500.50"})
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_a_price_that_cannot_be_read_refuses_before_any_row_is_locked(secured_owner, monkeypatch):
    from exchanges.market.feed import MarketUnavailable
    from trading.services.deposits import paper_deposit

    paper = paper_account(secured_owner)
    tick({"BTC/USDT": "50000"})
    paper_deposit(actor=TEST_ACTOR, account=paper, asset="BTC", amount="0.1")
    btc = whitelisted(secured_owner, asset="BTC", network="BTC", address=BTC_ADDRESS, label="Cold")

    def no_price(symbol):
        raise MarketUnavailable()

    monkeypatch.setattr("trading.prices.current_ticker", no_price)
    with CaptureQueriesContext(connection) as queries, pytest.raises(PriceUnavailable):
        withdraw(paper, btc, amount="0.01")
    assert not Withdrawal.objects.exists()
    locked = [q["sql"] for q in queries if "trading_balance" in q["sql"] or "FOR UPDATE" in q["sql"]]
    assert locked == []
