"""The metric functions agree with empyrical (the library pyfolio and zipline report with) to 1e-9
relative on real daily returns: BTC, ETH and SOL/USDT closes shipped with the offline market data
("Binance spot market data"), in bull, bear and whole-range windows. Where our convention differs
(annual risk-free rate, wealth anchored at 1), the test converts and says so.
"""

from __future__ import annotations

import csv
import gzip
import math

import empyrical
import numpy as np
import pytest
from scipy.stats import norm

from analytics import metrics
from exchanges.market.data import DATA_DIR

RTOL = 1e-9
YEAR = 365


def daily_returns(base: str) -> np.ndarray:
    with gzip.open(DATA_DIR / "binance-1d" / f"{base}USDT_1d.csv.gz", "rt", newline="") as rows:
        closes = np.array([float(row["close"]) for row in csv.DictReader(rows)])
    return closes[1:] / closes[:-1] - 1.0


BTC = daily_returns("BTC")
SERIES = {
    "BTC whole range": BTC,
    "BTC 2022 bear": BTC[-1460:-1095],
    "ETH last 400 days": daily_returns("ETH")[-400:],
    "SOL first 300 days": daily_returns("SOL")[:300],
}


def close(ours: float | None, reference: float) -> None:
    assert ours is not None
    assert math.isclose(ours, float(reference), rel_tol=RTOL, abs_tol=1e-15), (ours, reference)


@pytest.fixture(params=list(SERIES), ids=list(SERIES))
def returns(request) -> np.ndarray:
    return SERIES[request.param]


def test_the_series_are_real_and_long_enough():
    assert BTC.size > 2900  # daily candles since 2017-08-17
    assert all(series.size >= 300 for series in SERIES.values())
    assert 0.3 < metrics.volatility(BTC) < 1.5  # BTC's annualised daily volatility, as traders quote it


def test_returns_and_risk_equal_empyricals(returns):
    close(metrics.total_return(returns), empyrical.cum_returns_final(returns))
    close(metrics.annual_return(returns, periods_per_year=YEAR), empyrical.annual_return(returns, annualization=YEAR))
    close(metrics.volatility(returns, periods_per_year=YEAR), empyrical.annual_volatility(returns, annualization=YEAR))
    close(metrics.sharpe(returns), empyrical.sharpe_ratio(returns, annualization=YEAR))
    close(metrics.sortino(returns), empyrical.sortino_ratio(returns, annualization=YEAR))
    close(metrics.calmar(returns), empyrical.calmar_ratio(returns, annualization=YEAR))
    close(metrics.omega(returns), empyrical.omega_ratio(returns, annualization=YEAR))
    close(metrics.max_drawdown(returns).depth, empyrical.max_drawdown(returns))


def test_an_annual_risk_free_rate_is_empyricals_per_period_rate_compounded(returns):
    per_period = (1.04) ** (1 / YEAR) - 1  # our convention: 4 % a year; empyrical takes the daily rate
    close(
        metrics.sharpe(returns, risk_free=0.04),
        empyrical.sharpe_ratio(returns, risk_free=per_period, annualization=YEAR),
    )
    close(
        metrics.sortino(returns, required_return=0.04),
        empyrical.sortino_ratio(returns, required_return=per_period, annualization=YEAR),
    )
    # empyrical's omega annualises required_return itself and subtracts risk_free as given (per period).
    close(
        metrics.omega(returns, risk_free=0.04, required_return=0.1),
        empyrical.omega_ratio(returns, risk_free=per_period, required_return=0.1, annualization=YEAR),
    )


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_historical_var_and_cvar_equal_empyricals(returns, confidence):
    close(metrics.var_historical(returns, confidence=confidence), empyrical.value_at_risk(returns, 1 - confidence))
    close(
        metrics.cvar_historical(returns, confidence=confidence),
        empyrical.conditional_value_at_risk(returns, 1 - confidence),
    )


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_parametric_var_and_cvar_are_the_normal_distributions_fitted_to_the_returns(returns, confidence):
    # empyrical has no Gaussian VaR; scipy's normal distribution is the reference.
    fitted = norm(loc=np.mean(returns), scale=np.std(returns, ddof=1))
    alpha = 1 - confidence
    close(metrics.var_parametric(returns, confidence=confidence), fitted.ppf(alpha))
    expected_shortfall = fitted.expect(lambda x: x, ub=fitted.ppf(alpha)) / alpha
    assert math.isclose(metrics.cvar_parametric(returns, confidence=confidence), expected_shortfall, rel_tol=1e-7)


def test_monte_carlo_var_converges_to_the_parametric_figure_and_repeats_with_its_seed():
    var, cvar = metrics.var_monte_carlo(BTC, confidence=0.95, draws=400_000, seed=7)
    assert math.isclose(var, metrics.var_parametric(BTC), rel_tol=0.01)
    assert math.isclose(cvar, metrics.cvar_parametric(BTC), rel_tol=0.01)
    assert metrics.var_monte_carlo(BTC, draws=1000, seed=3) == metrics.var_monte_carlo(BTC, draws=1000, seed=3)


def test_beta_against_btc_equals_empyricals():
    eth = daily_returns("ETH")[-800:]
    btc = BTC[-800:]
    close(metrics.beta(eth, btc), empyrical.beta(eth, btc))
    close(metrics.beta(btc, btc), 1.0)
    per_period = (1.04) ** (1 / YEAR) - 1
    close(metrics.beta(eth, btc, risk_free=0.04), empyrical.beta(eth, btc, risk_free=per_period))


def test_the_maximum_drawdown_names_its_peak_trough_and_recovery():
    #            wealth: 1, 1.1, 0.99, 0.891, 1.0692, 1.17612
    returns = np.array([0.10, -0.10, -0.10, 0.20, 0.10])
    drawdown = metrics.max_drawdown(returns)
    assert drawdown.peak == 1 and drawdown.trough == 3
    assert math.isclose(drawdown.depth, 0.891 / 1.1 - 1)
    assert drawdown.recovery == 5 and drawdown.duration == 4
    unrecovered = metrics.max_drawdown(np.array([0.05, -0.2, 0.1]))
    assert unrecovered.recovery is None and unrecovered.trough == 2 and unrecovered.duration == 2
    first_day_loss = metrics.max_drawdown(np.array([-0.1, 0.05]))
    assert first_day_loss.peak == 0 and math.isclose(first_day_loss.depth, -0.1)


def test_correlation_matrix_equals_numpys_pearson_and_is_symmetric():
    series = {"BTC": BTC[-365:], "ETH": daily_returns("ETH")[-365:], "DOGE": daily_returns("DOGE")[-365:]}
    matrix = metrics.correlation_matrix(series)
    assert matrix["BTC"]["BTC"] == pytest.approx(1.0)
    assert matrix["BTC"]["ETH"] == matrix["ETH"]["BTC"]
    close(matrix["ETH"]["DOGE"], np.corrcoef(series["ETH"], series["DOGE"])[0, 1])
    assert 0.5 < matrix["BTC"]["ETH"] < 1.0  # the majors move together
    flat = metrics.correlation_matrix({"BTC": BTC[-10:], "USDT": np.zeros(10)})
    assert flat["BTC"]["USDT"] is None  # a stablecoin never varies: no correlation, not NaN


def test_trade_statistics_by_hand():
    stats = metrics.trade_stats([0.10, -0.05, 0.02, -0.05, 0.0])
    assert stats.count == 5
    assert stats.win_rate == pytest.approx(0.4)
    assert stats.profit_factor == pytest.approx(0.12 / 0.10)
    assert stats.expectancy == pytest.approx(0.004)
    # W = 0.4, R = mean gain 0.06 / mean loss 0.05 = 1.2: f* = 0.4 - 0.6 / 1.2 = -0.1 (do not bet)
    assert stats.kelly_fraction == pytest.approx(-0.1)
    assert metrics.trade_stats([0.1, 0.2]).profit_factor is None  # no losses: no ratio
    assert metrics.trade_stats([]).win_rate is None


def test_figures_that_do_not_exist_are_none_never_nan():
    assert metrics.sharpe([0.01]) is None
    assert metrics.sharpe([0.01, 0.01, 0.01]) is None  # no variation
    assert metrics.sortino([0.01, 0.02, 0.03]) is None  # no shortfall
    assert metrics.calmar([0.01, 0.02]) is None  # no drawdown
    summary = metrics.metrics_summary([0.01, 0.02])
    assert all(value is None or math.isfinite(value) for value in summary.values())
    with pytest.raises(ValueError):
        metrics.sharpe([0.01, float("nan")])


def test_the_summary_holds_every_metric_the_pages_show():
    summary = metrics.metrics_summary(BTC[-365:], benchmark_returns=BTC[-365:], risk_free=0.04)
    expected = [
        "total_return",
        "annual_return",
        "volatility",
        "sharpe",
        "sortino",
        "calmar",
        "omega",
        "max_drawdown",
        "max_drawdown_peak",
        "max_drawdown_trough",
        "max_drawdown_recovery",
        "var_95",
        "cvar_95",
        "var_99",
        "cvar_99",
        "var_95_parametric",
        "cvar_99_parametric",
        "var_95_monte_carlo",
        "cvar_99_monte_carlo",
        "beta",
    ]
    for name in expected:
        assert name in summary
    assert summary["beta"] == pytest.approx(1.0)
    assert summary["var_99"] < summary["var_95"] < 0
