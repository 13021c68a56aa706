"""Trading tests price everything from live and replayed ticks alike, as the offline demo does
(MARKET_DATA_EXCHANGE=replay, what `make run` sets): prices come from ticks the tests publish
(tests/trading/helpers.py `tick`) and paper orders follow the shipped Binance rules and fees.
test_alerts_delivery.py's test_a_replayed_price_never_fires_an_alert_where_live_prices_are_configured
sets it back to an exchange to show the rule that protects production.

`postgresql`: for tests that prove row locking (SQLite ignores row locks and serialises every
writer, so a race cannot happen there): they skip on SQLite locally and FAIL when CI is set, where
DATABASE_URL must name PostgreSQL.
"""

import os

import pytest
from django.db import connection

from tests.trading.helpers import paper_account, tick


@pytest.fixture(autouse=True)
def _the_replay_is_the_configured_source(settings):
    settings.MARKET_DATA_EXCHANGE = "replay"


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        message = "This test needs PostgreSQL (row locks, exact NUMERIC): set DATABASE_URL=postgres://..."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def account(owner):
    """`owner`'s paper account (10,000 USDT) with BTC at 50,000: where most order tests start."""
    tick({"BTC/USDT": "50000"})
    return paper_account(owner)
