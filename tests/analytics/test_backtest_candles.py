"""A backtest's candles: from the stored rows (paged past one request's limit) and from the shared CSVs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from analytics.backtest.candles import from_csv, load_candles
from exchanges.market.candles import import_candles_csv
from tests.analytics.backtest_data import SHARED_DATA, require_shared_data

BTC_1H = Path(__file__).resolve().parents[1] / "exchanges" / "market" / "data" / "BTCUSDT_1h_2022-01-03_to_17.csv.gz"


def test_a_csv_reads_as_millisecond_open_times_and_float_columns_without_its_last_row():
    candles = from_csv(BTC_1H)
    assert (candles.symbol, candles.timeframe, len(candles)) == ("BTC/USDT", "1h", 336)
    assert candles.time[0] == datetime(2022, 1, 3, tzinfo=UTC).timestamp() * 1000
    assert set(np.diff(candles.time).tolist()) == {3_600_000}
    assert candles.periods_per_year == 8_760
    assert len(from_csv(BTC_1H, drop_last=False)) == 337


def test_a_csv_can_be_cut_to_a_range_both_ends_included():
    candles = from_csv(BTC_1H, start=datetime(2022, 1, 4, tzinfo=UTC), end=datetime(2022, 1, 4, 23, tzinfo=UTC))
    assert len(candles) == 24
    assert candles.between(candles.time[3], candles.time[5]).close.tolist() == candles.close[3:6].tolist()


def test_the_daily_layout_of_the_shared_data_reads_too():
    require_shared_data()
    candles = from_csv(SHARED_DATA / "binance-1d" / "ETHUSDT_1d.csv.gz")
    assert candles.symbol == "ETH/USDT" and candles.timeframe == "1d" and candles.periods_per_year == 365
    assert candles.time[0] == datetime(2017, 8, 17, tzinfo=UTC).timestamp() * 1000


@pytest.mark.django_db
def test_stored_candles_load_across_pages_exactly_as_the_file_holds_them(settings):
    settings.MARKET_MAX_CANDLES = 50  # 336 candles: seven pages
    import_candles_csv(path=BTC_1H, symbol="BTC/USDT", timeframe="1h")
    stored = load_candles("BTC/USDT", "1h", datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 2, 1, tzinfo=UTC))
    expected = from_csv(BTC_1H)
    for column in ("time", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(stored, column), getattr(expected, column))
    assert (stored.symbol, stored.timeframe) == ("BTC/USDT", "1h")
    four_hourly = load_candles("BTC/USDT", "4h", datetime(2022, 1, 3, tzinfo=UTC), datetime(2022, 1, 3, 23, tzinfo=UTC))
    assert len(four_hourly) == 6 and four_hourly.high[0] == expected.high[:4].max()


@pytest.mark.django_db
def test_a_range_without_candles_is_a_clear_error():
    import_candles_csv(path=BTC_1H, symbol="BTC/USDT", timeframe="1h")
    with pytest.raises(ValidationError) as caught:
        load_candles("BTC/USDT", "1h", datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 2, 1, tzinfo=UTC))
    assert "No 1h candles of BTC/USDT" in caught.value.message_dict["start"][0]
    with pytest.raises(ValidationError) as caught:
        load_candles("BTC/USDT", "1h", datetime(2022, 2, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC))
    assert "start" in caught.value.message_dict
