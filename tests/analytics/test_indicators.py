"""The indicators a chart draws, checked against TA-Lib (the reference traders compare with) on real
Binance closes, against values worked out by hand on tiny series, and at their edges.

The closes are two years and a day of BTC/USDT daily candles (2023-01-01 to 2025-01-01, "Binance spot
market data", a slice of ../shared/data/binance-1d/ kept here so the tests do not depend on that
folder; the market API's tests import it too, and the importer leaves out its last row).
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
import talib
from django.core.exceptions import ValidationError
from numpy.testing import assert_allclose

from analytics.indicators import bbands, compute_indicators, ema, macd, parse_indicators, rsi, sma

DATA = Path(__file__).parent / "data" / "BTCUSDT_1d_2023-2024.csv.gz"
RTOL = 1e-8


def real_closes() -> np.ndarray:
    with gzip.open(DATA, "rt", newline="") as rows:
        return np.array([float(row["close"]) for row in csv.DictReader(rows)])


CLOSES = real_closes()


def same_as_talib(ours: np.ndarray, reference: np.ndarray) -> None:
    """Same length, NaN at exactly the same places, and equal to 1e-8 relative everywhere else."""
    assert ours.shape == reference.shape
    assert np.array_equal(np.isnan(ours), np.isnan(reference)), "the warm-up differs from TA-Lib's"
    assert_allclose(ours[~np.isnan(ours)], reference[~np.isnan(reference)], rtol=RTOL, atol=0)


# --- against TA-Lib on real closes ------------------------------------------------------------------
def test_the_closes_are_two_years_of_real_daily_candles():
    assert len(CLOSES) == 732
    assert CLOSES[0] == 16616.75 and CLOSES[-1] == 94591.79


@pytest.mark.parametrize("period", [2, 5, 20, 50, 200])
def test_sma_and_ema_equal_talibs(period):
    same_as_talib(sma(CLOSES, period), talib.SMA(CLOSES, timeperiod=period))
    same_as_talib(ema(CLOSES, period), talib.EMA(CLOSES, timeperiod=period))


@pytest.mark.parametrize("period", [2, 6, 14, 30])
def test_rsi_equals_talibs_wilder_smoothing(period):
    same_as_talib(rsi(CLOSES, period), talib.RSI(CLOSES, timeperiod=period))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (5, 35, 5), (3, 10, 1)])
def test_macd_signal_and_histogram_equal_talibs(fast, slow, signal):
    ours = macd(CLOSES, fast, slow, signal)
    reference = talib.MACD(CLOSES, fastperiod=fast, slowperiod=slow, signalperiod=signal)
    for our_series, their_series in zip(ours, reference, strict=True):
        same_as_talib(our_series, their_series)


@pytest.mark.parametrize(("period", "k"), [(20, 2.0), (10, 1.5), (50, 3.0)])
def test_bollinger_bands_equal_talibs_population_deviation(period, k):
    ours = bbands(CLOSES, period, k)
    reference = talib.BBANDS(CLOSES, timeperiod=period, nbdevup=k, nbdevdn=k, matype=talib.MA_Type.SMA)
    for our_series, their_series in zip(ours, reference, strict=True):
        same_as_talib(our_series, their_series)


def test_compute_indicators_names_each_series_and_matches_the_functions():
    specs = parse_indicators("sma:20,ema:50,rsi:14,macd,bbands:20:2")
    answer = compute_indicators(specs, CLOSES)

    assert list(answer) == ["sma:20", "ema:50", "rsi:14", "macd:12:26:9", "bbands:20:2"]
    assert list(answer["macd:12:26:9"]) == ["macd", "signal", "histogram"]
    assert list(answer["bbands:20:2"]) == ["upper", "middle", "lower"]
    assert all(len(values) == len(CLOSES) for series in answer.values() for values in series.values())
    rsi_values = answer["rsi:14"]["value"]
    assert rsi_values[:14] == [None] * 14, "warm-up is None (null in JSON), not NaN"
    assert rsi_values[14:] == pytest.approx(talib.RSI(CLOSES, 14)[14:].tolist(), rel=RTOL)
    upper = answer["bbands:20:2"]["upper"]
    assert upper[19:] == pytest.approx(talib.BBANDS(CLOSES, 20, 2.0, 2.0)[0][19:].tolist(), rel=RTOL)


# --- worked out by hand -----------------------------------------------------------------------------
def test_sma_and_ema_of_a_tiny_series_by_hand():
    closes = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert_allclose(sma(closes, 3), [np.nan, np.nan, 2.0, 3.0, 4.0])
    # k = 2 / (3 + 1) = 0.5, seeded with the SMA of the first three: 2, then 2 + 0.5 * (4 - 2) = 3, then 4.
    assert_allclose(ema(closes, 3), [np.nan, np.nan, 2.0, 3.0, 4.0])
    assert_allclose(ema([2.0, 4.0, 10.0], 2), [np.nan, 3.0, 3.0 + (10.0 - 3.0) * 2 / 3])


def test_rsi_of_a_tiny_series_by_hand():
    # Changes +1, -1, +2, then +0: the first RSI averages the first two changes (gain 0.5, loss 0.5): 50.
    # Next: gain (0.5 + 2) / 2 = 1.25, loss 0.5 / 2 = 0.25 -> 100 * 1.25 / 1.5; then gain 0.625, loss 0.125.
    values = rsi([10.0, 11.0, 10.0, 12.0, 12.0], 2)
    assert_allclose(values, [np.nan, np.nan, 50.0, 100 * 1.25 / 1.5, 100 * 0.625 / 0.75])


def test_bollinger_bands_of_a_tiny_series_by_hand():
    upper, middle, lower = bbands([1.0, 3.0, 5.0, 7.0], period=2, k=2.0)
    # Each window of two is x±1 around its mean: population deviation 1, so the bands are mean ± 2.
    assert_allclose(middle, [np.nan, 2.0, 4.0, 6.0])
    assert_allclose(upper, [np.nan, 4.0, 6.0, 8.0])
    assert_allclose(lower, [np.nan, 0.0, 2.0, 4.0])


def test_macd_starts_with_its_signal_line_like_talib():
    line, signal, histogram = macd(CLOSES[:40])
    first = 26 - 1 + 9 - 1
    for series in (line, signal, histogram):
        assert np.isnan(series[:first]).all() and not np.isnan(series[first:]).any()
    assert_allclose(histogram[first:], line[first:] - signal[first:])


# --- edges --------------------------------------------------------------------------------------------
def test_a_series_shorter_than_the_period_is_all_warm_up():
    short = CLOSES[:10]
    specs = parse_indicators("sma:20,ema:20,rsi:14,macd,bbands:20:2")
    answer = compute_indicators(specs, short)
    assert all(values == [None] * 10 for series in answer.values() for values in series.values())
    assert compute_indicators(specs, []) == {spec.key: {name: [] for name in spec.outputs} for spec in specs}
    assert np.isnan(rsi(CLOSES[:14], 14)).all() and not np.isnan(rsi(CLOSES[:15], 14)[14]), "RSI:14 needs 15 closes"


def test_a_flat_market_has_a_neutral_rsi_and_zero_width_bands():
    flat = np.full(40, 65000.0)
    assert (rsi(flat, 14)[14:] == 50.0).all(), "no movement is neither overbought nor oversold"
    upper, middle, lower = bbands(flat, 20, 2.0)
    assert (upper[19:] == 65000.0).all() and (lower[19:] == 65000.0).all() and (middle[19:] == 65000.0).all()


def test_only_gains_is_an_rsi_of_100_and_only_losses_0():
    assert (rsi(np.arange(1.0, 30.0), 14)[14:] == 100.0).all()
    assert (rsi(np.arange(30.0, 1.0, -1.0), 14)[14:] == 0.0).all()


def test_after_the_warm_up_no_value_is_missing():
    specs = parse_indicators("sma:200,ema:50,rsi:14,macd,bbands:20:2")
    warm_up = {"sma:200": 199, "ema:50": 49, "rsi:14": 14, "macd:12:26:9": 33, "bbands:20:2": 19}
    for key, series in compute_indicators(specs, CLOSES).items():
        for values in series.values():
            assert values[: warm_up[key]] == [None] * warm_up[key], key
            assert None not in values[warm_up[key] :], key


# --- names= --------------------------------------------------------------------------------------------
def test_names_take_defaults_and_are_forgiving_about_case_spaces_and_repeats():
    specs = parse_indicators(" SMA:20 , rsi, macd ,bbands, rsi:14,bbands:20:2.5 ")
    assert [spec.key for spec in specs] == ["sma:20", "rsi:14", "macd:12:26:9", "bbands:20:2", "bbands:20:2.5"]


@pytest.mark.parametrize(
    ("names", "quoted"),
    [
        ("sma", "`sma`: needs a period"),
        ("sma:0", "`sma:0`: periods are whole numbers from 2 to 500"),
        ("ema:501", "`ema:501`: periods are whole numbers from 2 to 500"),
        ("sma:2.5", "`sma:2.5`: periods are whole numbers"),
        ("rsi:14:3", "`rsi:14:3`: too many numbers"),
        ("vwap:20", "`vwap:20`: unknown indicator"),
        ("macd:26:12:9", "`macd:26:12:9`: the fast period must be shorter than the slow one"),
        ("bbands:20:0", "`bbands:20:0`: k is a number above 0 and at most 10"),
        ("bbands:20:11", "`bbands:20:11`: k is a number above 0"),
        ("sma:-5", "`sma:-5`: write it as a name and numbers"),
        ("sma:20,,ema:5", "An empty name between commas."),
        ("", "Name at least one indicator"),
    ],
)
def test_a_bad_name_is_a_names_error_quoting_the_bad_part(names, quoted):
    with pytest.raises(ValidationError) as refused:
        parse_indicators(names)
    assert list(refused.value.message_dict) == ["names"]
    assert any(quoted in message for message in refused.value.message_dict["names"]), refused.value.message_dict


def test_every_bad_part_is_named_at_once_and_good_parts_do_not_hide_them():
    with pytest.raises(ValidationError) as refused:
        parse_indicators("sma:20,foo,ema:1")
    messages = refused.value.message_dict["names"]
    assert len(messages) == 2 and messages[0].startswith("`foo`") and messages[1].startswith("`ema:1`")


def test_at_most_eight_indicators_at_once():
    eight = ",".join(f"sma:{period}" for period in range(2, 10))
    assert len(parse_indicators(eight)) == 8
    with pytest.raises(ValidationError) as refused:
        parse_indicators(eight + ",sma:10")
    assert "at most 8" in refused.value.message_dict["names"][0]
    with pytest.raises(ValidationError):
        parse_indicators("sma:20," * 40)


def test_sma_of_a_million_closes_stays_exact_at_the_end():
    """A running cumsum's difference loses digits as the total grows: on a million BTC-sized closes the
    last averages drifted by about 1e-10 relative, enough to flip which of two close averages is above."""
    import math

    closes = 60_000 + np.random.default_rng(1).normal(0, 50, 1_000_000).round(2)
    averages = sma(closes, 30)
    for index in (29, 500_000, 999_999):
        exact = math.fsum(closes[index - 29 : index + 1]) / 30
        assert averages[index] == pytest.approx(exact, rel=1e-14)
