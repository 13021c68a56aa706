"""Price alerts' tests fire alerts from live and replayed ticks alike, as the offline demo does
(MARKET_DATA_EXCHANGE=replay, what `make run` sets). test_alerts_delivery.py's
test_a_replayed_price_never_fires_an_alert_where_live_prices_are_configured sets it back to an
exchange to show the rule that protects production."""

import pytest


@pytest.fixture(autouse=True)
def _the_replay_is_the_configured_source(settings):
    settings.MARKET_DATA_EXCHANGE = "replay"
