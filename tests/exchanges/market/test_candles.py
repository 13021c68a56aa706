"""Stored candles: importing them (CSV, ccxt through the emulator, the shipped fixture), and reading
them back at the timeframe a chart asks for.

The CSV slices in data/ are real Binance candles copied from ../shared/data (BTC/USDT 1h from
2022-01-03 to 2022-01-17, ETH/USDT 4h from 2024-03-04 to 2024-03-11), so these tests do not need
that folder. Aggregation is checked against Binance's own daily candles: 24 hourly candles make
exactly the day the exchange recorded.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from exchanges.errors import UnknownSymbol
from exchanges.market.candles import (
    Bar,
    CandleImportFailed,
    aggregate,
    candles_for,
    import_candles_ccxt,
    import_candles_csv,
    load_offline_candles,
)
from exchanges.market.data import DATA_DIR, fixture_path, manifest, read_candles
from exchanges.models import Candle

pytestmark = pytest.mark.django_db

HERE = Path(__file__).resolve().parent / "data"
BTC_1H = HERE / "BTCUSDT_1h_2022-01-03_to_17.csv.gz"
ETH_4H = HERE / "ETHUSDT_4h_2024-03-04_to_11.csv"
JAN_3 = datetime(2022, 1, 3, tzinfo=UTC)  # a Monday


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def hourly_rows():
    return list(read_candles(BTC_1H))[:-1]


def binance_daily(symbol: str, first: datetime, last: datetime):
    """Binance's own daily candles from the shipped fixture file (not the database)."""
    return [row for row in read_candles(fixture_path(symbol, "1d")) if unix(first) <= row.time <= unix(last)]


@pytest.fixture
def btc_hourly():
    assert import_candles_csv(path=BTC_1H, symbol="BTC/USDT", timeframe="1h") == 336


# Importing a CSV --------------------------------------------------------------------------------


def test_a_shared_data_hourly_csv_is_stored_without_its_possibly_open_last_row():
    steps = []
    new = import_candles_csv(path=BTC_1H, symbol="BTC-USDT", timeframe="1h", on_progress=steps.append)

    assert new == 336  # 337 rows in the file; the last may have been open when recorded
    stored = Candle.objects.filter(exchange="binance", symbol="BTC/USDT", timeframe="1h").order_by("open_time")
    assert stored.count() == 336
    first = stored.first()
    assert first.open_time == JAN_3
    assert (first.open, first.high, first.low, first.close) == tuple(
        Decimal(v) for v in ("47286.18", "47289.11", "47050.00", "47050.08")
    )
    assert first.volume == Decimal("734.11794")
    assert stored.last().open_time == utc(2022, 1, 16, 23)
    assert str(steps[-1]) == "[1/1] BTC/USDT 1h: 336 candles (336 new)"


def test_the_daily_and_4h_layout_reads_from_a_plain_csv_too():
    assert import_candles_csv(path=ETH_4H, symbol="ETHUSDT", timeframe="4h") == 42
    first = Candle.objects.filter(symbol="ETH/USDT", timeframe="4h").order_by("open_time").first()
    assert first.open_time == utc(2024, 3, 4) and first.open == Decimal("3487.8")


def test_importing_the_same_file_twice_adds_nothing(btc_hourly):
    assert import_candles_csv(path=BTC_1H, symbol="BTC/USDT", timeframe="1h") == 0
    assert Candle.objects.filter(symbol="BTC/USDT", timeframe="1h").count() == 336


def test_one_candle_per_exchange_symbol_timeframe_and_open_time(btc_hourly):
    with pytest.raises(IntegrityError):
        Candle.objects.create(
            exchange="binance",
            symbol="BTC/USDT",
            timeframe="1h",
            open_time=JAN_3,
            **dict.fromkeys(("open", "high", "low", "close", "volume"), Decimal(1)),
        )


def test_a_file_of_another_market_or_timeframe_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValidationError) as wrong_symbol:
        import_candles_csv(path=BTC_1H, symbol="ETH/USDT", timeframe="1h")
    assert "BTCUSDT candles, not ETH/USDT" in wrong_symbol.value.message_dict["symbol"][0]

    with pytest.raises(ValidationError) as wrong_timeframe:
        import_candles_csv(path=ETH_4H, symbol="ETH/USDT", timeframe="1h")
    assert wrong_timeframe.value.message_dict["timeframe"] == ["The file's candles are 4h apart, not 1h."]

    garbage = tmp_path / "prices.csv"
    garbage.write_text("when,price\n2024-01-01,3\n")
    with pytest.raises(ValidationError) as bad_layout:
        import_candles_csv(path=garbage, symbol="BTC/USDT", timeframe="1h")
    assert "expected the columns timestamp,open,high,low,close,volume" in bad_layout.value.message_dict["path"][0]

    with pytest.raises(ValidationError) as missing:
        import_candles_csv(path=tmp_path / "nope.csv", symbol="BTC/USDT", timeframe="1h")
    assert "No such file" in missing.value.message_dict["path"][0]
    assert not Candle.objects.exists()


# Aggregation ------------------------------------------------------------------------------------


def test_24_hourly_candles_make_the_day_binance_recorded(btc_hourly):
    series = candles_for(symbol="BTC/USDT", timeframe="1d", start=JAN_3, end=utc(2022, 1, 16))

    real = binance_daily("BTC/USDT", JAN_3, utc(2022, 1, 16))
    assert len(series.bars) == len(real) == 14
    for bar, day in zip(series.bars, real, strict=True):
        assert bar.time == day.time
        assert (bar.open, bar.high, bar.low, bar.close) == (
            float(day.open),
            float(day.high),
            float(day.low),
            float(day.close),
        )
        assert bar.volume == pytest.approx(float(day.volume), rel=1e-9)
    assert series.source == "binance"
    assert series.source_label == "Binance spot market data, 1d candles aggregated from 1h"


def test_4h_bars_take_the_first_open_the_last_close_the_extremes_and_the_summed_volume(btc_hourly):
    hours = hourly_rows()
    series = candles_for(symbol="BTC/USDT", timeframe="4h", start=JAN_3, end=utc(2022, 1, 16, 20))

    assert len(series.bars) == 84
    for index, bar in enumerate(series.bars):
        group = hours[index * 4 : index * 4 + 4]
        assert bar.time == group[0].time == unix(JAN_3) + index * 14_400
        assert bar.open == float(group[0].open)
        assert bar.close == float(group[-1].close)
        assert bar.high == max(float(row.high) for row in group)
        assert bar.low == min(float(row.low) for row in group)
        assert bar.volume == pytest.approx(sum(float(row.volume) for row in group), rel=1e-12)


def test_weeks_open_on_monday_and_match_binance_daily_candles(btc_hourly):
    series = candles_for(symbol="BTC/USDT", timeframe="1w", start=JAN_3, end=utc(2022, 1, 16))

    assert [datetime.fromtimestamp(bar.time, UTC) for bar in series.bars] == [JAN_3, utc(2022, 1, 10)]
    assert all(datetime.fromtimestamp(bar.time, UTC).weekday() == 0 for bar in series.bars)
    for bar, monday in zip(series.bars, (JAN_3, utc(2022, 1, 10)), strict=True):
        days = binance_daily("BTC/USDT", monday, monday + timedelta(days=6))
        assert len(days) == 7
        assert bar.open == float(days[0].open) and bar.close == float(days[-1].close)
        assert bar.high == max(float(d.high) for d in days) and bar.low == min(float(d.low) for d in days)
        assert bar.volume == pytest.approx(sum(float(d.volume) for d in days), rel=1e-9)


def test_a_range_starting_mid_bucket_gets_only_whole_buckets(btc_hourly):
    series = candles_for(symbol="BTC/USDT", timeframe="1d", start=utc(2022, 1, 3, 5), end=utc(2022, 1, 5, 23))
    assert [datetime.fromtimestamp(bar.time, UTC) for bar in series.bars] == [utc(2022, 1, 4), utc(2022, 1, 5)]
    assert series.bars[0].open == float(binance_daily("BTC/USDT", utc(2022, 1, 4), utc(2022, 1, 4))[0].open)


def test_aggregate_works_on_bars_in_memory():
    bars = [Bar(unix(JAN_3) + i * 3600, 10 + i, 20 + i, 5 - i, 11 + i, 1.5) for i in range(8)]
    assert aggregate(bars, "4h") == [
        Bar(unix(JAN_3), 10, 23, 2, 14, 6.0),
        Bar(unix(JAN_3) + 14_400, 14, 27, -2, 18, 6.0),
    ]


def test_a_stored_timeframe_is_served_as_stored_and_without_an_end_up_to_the_latest_candle():
    load_offline_candles()
    series = candles_for(symbol="ETH/USDT", timeframe="1d", days=30)

    last_day = manifest()["files"][1]  # ETH/USDT 1d
    assert last_day["symbol"] == "ETH/USDT" and last_day["timeframe"] == "1d"
    assert len(series.bars) == 30
    assert series.bars[-1].time == last_day["last"]
    assert series.source_label == "Binance spot market data, 1d candles"
    weekly = candles_for(symbol="ETH/USDT", timeframe="1w", start=utc(2017, 1, 1))
    assert weekly.source_label == "Binance spot market data, 1w candles aggregated from 1d"  # not from 4h
    # ETH was listed on Thursday 2017-08-17: its first week, as Binance's, is the Monday before, from the listing on
    assert datetime.fromtimestamp(weekly.bars[0].time, UTC) == utc(2017, 8, 14)
    assert weekly.bars[0].open == float(binance_daily("ETH/USDT", utc(2017, 8, 17), utc(2017, 8, 17))[0].open)
    assert len(candles_for(symbol="ETH/USDT", timeframe="4h").bars) == 500  # the default: the latest 500


# Bad requests -----------------------------------------------------------------------------------


def test_bad_requests_are_validation_errors_naming_the_field(btc_hourly, settings):
    def refused(**kwargs) -> dict:
        with pytest.raises(ValidationError) as error:
            candles_for(**{"symbol": "BTC/USDT", "timeframe": "1h", **kwargs})
        return error.value.message_dict

    assert "Unknown timeframe '2h'" in refused(timeframe="2h")["timeframe"][0]
    assert refused(start=utc(2022, 1, 10), end=utc(2022, 1, 5)) == {"start": ["The start is after the end."]}
    assert refused(start=JAN_3, days=3) == {"days": ["Give either days or a start, not both."]}
    assert refused(days=0) == {"days": ["Give a whole number of days, 1 or more."]}
    settings.MARKET_MAX_CANDLES = 100
    assert (
        "holds 337 1h candles; one request may ask for at most 100"
        in refused(start=JAN_3, end=utc(2022, 1, 17))["start"][0]
    )
    assert "at most 100" in refused(days=5)["days"][0]
    assert refused(timeframe="5m") == {
        "timeframe": ["The finest candles stored for BTC/USDT are 1h: ask for 1h or longer."]
    }
    assert "No candles are stored for ETH/USDT yet" in refused(symbol="ETH/USDT")["symbol"][0]
    with pytest.raises(UnknownSymbol):
        candles_for(symbol="PEPE-USDT", timeframe="1h")


# ccxt -------------------------------------------------------------------------------------------


def test_candles_are_paged_in_from_the_exchange_through_ccxt(exchange_emulator):
    steps = []
    new = import_candles_ccxt(
        symbol="BTC/USDT", timeframe="15m", since=utc(2025, 12, 1), until=utc(2026, 1, 6), on_progress=steps.append
    )

    # The emulator holds 30 recorded days (2025-12-07 to 2026-01-05): 2,880 quarter hours, 1,000 a page.
    assert new == 2_880
    assert [path for _, path in exchange_emulator.calls("binance")].count("/api/v3/klines") == 4
    assert [step.candles for step in steps] == [1_000, 2_000, 2_880, 2_880]
    assert str(steps[2]).endswith("BTC/USDT 15m: 2,880 candles (2,880 new)")
    daily = candles_for(symbol="BTC/USDT", timeframe="1d", start=utc(2025, 12, 7), exchange="binance")
    assert len(daily.bars) == 30
    assert daily.bars[-1].close == 93859.71  # Binance's real close of 2026-01-05, as the emulator serves it
    assert import_candles_ccxt(symbol="BTC/USDT", timeframe="15m", since=utc(2025, 12, 1), until=utc(2026, 1, 6)) == 0


def test_an_unreachable_exchange_stops_the_import_with_a_reason(exchange_emulator):
    exchange_emulator.stop()
    with pytest.raises(CandleImportFailed) as error:
        import_candles_ccxt(symbol="ETH/USDT", timeframe="1d", since=utc(2025, 12, 1))
    assert "Binance did not answer the candle request" in error.value.message
    assert "resumes without duplicates" in error.value.message


# The shipped fixture ----------------------------------------------------------------------------


def test_the_shipped_fixture_loads_every_major_and_loading_it_again_changes_nothing():
    files = manifest()["files"]
    total = sum(entry["rows"] for entry in files)
    assert {entry["symbol"] for entry in files} == {
        f"{b}/USDT" for b in ("BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK")
    }
    assert sum((DATA_DIR / entry["path"]).stat().st_size for entry in files) < 3_000_000

    steps = []
    started = time.perf_counter()
    assert load_offline_candles(on_progress=steps.append) == total
    first_load = time.perf_counter() - started
    assert Candle.objects.count() == total
    assert str(steps[0]) == "[1/20] BTC/USDT 1d: 3,064 candles (3,064 new)"

    started = time.perf_counter()
    assert load_offline_candles() == 0
    again = time.perf_counter() - started
    assert Candle.objects.count() == total
    print(f"fixture: {total:,} candles loaded in {first_load:.2f} s, again in {again * 1000:.0f} ms")


def test_only_the_followed_markets_are_loaded(settings):
    settings.MARKET_SYMBOLS = ["BTC/USDT", "ETH/USDT"]
    load_offline_candles()
    assert set(Candle.objects.values_list("symbol", flat=True).distinct()) == {"BTC/USDT", "ETH/USDT"}


# The command ------------------------------------------------------------------------------------


def test_the_command_imports_a_csv_with_progress_and_a_summary():
    out = io.StringIO()
    call_command("import_candles", "--csv", str(BTC_1H), "--symbol", "BTC-USDT", "--timeframe", "1h", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/1] BTC/USDT 1h: 336 candles (336 new)"
    assert lines[-1].startswith("Imported BTC-USDT 1h: 336 new candles in ")


def test_the_command_loads_the_offline_fixture():
    out = io.StringIO()
    call_command("import_candles", "--offline", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 21 and lines[12] == "[13/20] BNB/USDT 4h: 4,380 candles (4,380 new)"
    assert lines[-1].startswith("Imported the offline fixture: 69,333 new candles")


def test_the_command_pages_through_ccxt(exchange_emulator):
    out = io.StringIO()
    call_command(
        "import_candles", "--ccxt", "--symbol", "SOL/USDT", "--timeframe", "1d", "--since", "2025-12-01", stdout=out
    )
    assert out.getvalue().splitlines()[0] == "[1/1] SOL/USDT 1d: 30 candles (30 new)"


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (["--csv", str(BTC_1H), "--symbol", "BTC/USDT"], "--timeframe is required"),
        (["--csv", str(BTC_1H), "--symbol", "BTC/USDT", "--timeframe", "7h"], "timeframe: Unknown timeframe '7h'"),
        (["--csv", str(BTC_1H), "--symbol", "NOPE/USDT", "--timeframe", "1h"], "symbol: We do not follow the market"),
        (["--ccxt", "--symbol", "BTC/USDT", "--timeframe", "1d"], "--since is required"),
        (["--ccxt", "--symbol", "BTC/USDT", "--timeframe", "1d", "--since", "yesterday"], "is not a date"),
        (
            ["--ccxt", "--symbol", "BTC/USDT", "--timeframe", "1d", "--since", "2025-02-01", "--until", "2025-01-01"],
            "until: The start of the import is after its end",
        ),
    ],
)
def test_the_command_refuses_bad_input_with_the_reason(arguments, reason, exchange_emulator):
    with pytest.raises(CommandError, match=reason):
        call_command("import_candles", *arguments, stdout=io.StringIO())
    assert not Candle.objects.exists()


# Size ---------------------------------------------------------------------------------------------


def test_fifty_thousand_bars_are_served_quickly_and_one_more_is_refused(settings, tmp_path):
    """The candles endpoint may ask for MARKET_MAX_CANDLES bars: they come without model instances."""
    start = unix(utc(2024, 1, 1))
    lines = ["timestamp,open,high,low,close,volume"] + [
        f"{datetime.fromtimestamp(start + i * 300, UTC):%Y-%m-%d %H:%M:%S},100.5,101.25,99.75,{100 + i % 7},2.5"
        for i in range(50_001)  # the last row is dropped as possibly open
    ]
    (tmp_path / "five.csv").write_text("\n".join(lines) + "\n")
    assert import_candles_csv(path=tmp_path / "five.csv", symbol="BTC/USDT", timeframe="5m") == 50_000
    end = utc(2024, 1, 1) + timedelta(minutes=5 * 49_999)

    started = time.perf_counter()
    series = candles_for(symbol="BTC/USDT", timeframe="5m", start=utc(2024, 1, 1), end=end)
    stored_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    hourly = candles_for(symbol="BTC/USDT", timeframe="1h", start=utc(2024, 1, 1), end=end)
    aggregated_ms = (time.perf_counter() - started) * 1000

    assert len(series.bars) == 50_000 and series.bars[-1] == Bar(unix(end), 100.5, 101.25, 99.75, 105.0, 2.5)
    assert len(hourly.bars) == 4_167 and hourly.bars[0].volume == 30.0
    print(f"candles_for: 50,000 stored 5m bars {stored_ms:.0f} ms, 4,167 1h bars from them {aggregated_ms:.0f} ms")
    assert stored_ms < 2_000 and aggregated_ms < 2_000  # a budget with room for a busy CI machine
    settings.MARKET_MAX_CANDLES = 50_000
    with pytest.raises(ValidationError, match="holds 50,001 5m candles"):
        candles_for(symbol="BTC/USDT", timeframe="5m", start=utc(2024, 1, 1), end=end + timedelta(minutes=5))
