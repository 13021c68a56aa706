"""Risk and performance metrics as pure numpy functions over a series of periodic simple returns.

Conventions (the tests check each against empyrical, the library pyfolio and zipline use, to 1e-9):

- `returns` are simple returns per period (r_t = P_t / P_{t-1} - 1), no NaN: callers drop them first.
- `periods_per_year` annualises: 365 for daily crypto returns (markets never close; empyrical's default
  252 is the stock-market year), 365 * 6 for 4-hour candles, and so on. ANALYTICS_PERIODS_PER_YEAR.
- `risk_free` is an ANNUAL rate (0.04 = 4 %), turned into a per-period rate by compounding:
  rf_p = (1 + risk_free) ** (1 / periods_per_year) - 1. empyrical takes the per-period rate itself.
- Standard deviations are sample ones (ddof = 1), as empyrical's.
- Value at risk and expected shortfall are returns, so a loss is negative (VaR 95 % = -0.04 means: on
  one period in twenty, a loss of 4 % or worse), as empyrical reports them.
- Drawdowns are measured on wealth starting at 1 before the first return, so a first-period loss is a
  drawdown; their positions are indices into that wealth series (0 = the start, i = after return i).

Every function answers a float, or None where the figure does not exist (fewer than two returns, no
losses for a ratio whose denominator is the losses): JSON-safe, never NaN or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

DEFAULT_PERIODS_PER_YEAR = 365
CONFIDENCE_LEVELS = (0.95, 0.99)
MONTE_CARLO_DRAWS = 100_000


def _returns(returns: ArrayLike) -> Array:
    values = np.asarray(returns, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError("Returns must be finite numbers (drop missing periods first).")
    return values


def _figure(value: float) -> float | None:
    """A float that JSON can carry, or None."""
    value = float(value)
    return value if math.isfinite(value) else None


def period_rate(annual_rate: float, periods_per_year: int) -> float:
    """The per-period rate that compounds to `annual_rate` over a year: (1 + a) ** (1 / n) - 1."""
    return (1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0


# --- returns and risk -------------------------------------------------------------------------------


def total_return(returns: ArrayLike) -> float | None:
    """prod(1 + r) - 1: what one unit became over the whole series."""
    values = _returns(returns)
    if values.size == 0:
        return None
    return _figure(np.prod(1.0 + values) - 1.0)


def annual_return(returns: ArrayLike, *, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR) -> float | None:
    """Compound annual growth: (1 + total) ** (periods_per_year / n) - 1."""
    values = _returns(returns)
    if values.size == 0:
        return None
    ending = np.prod(1.0 + values)
    if ending <= 0:
        return -1.0
    return _figure(ending ** (periods_per_year / values.size) - 1.0)


def volatility(returns: ArrayLike, *, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR) -> float | None:
    """Annualised volatility: std(r, ddof=1) * sqrt(periods_per_year)."""
    values = _returns(returns)
    if values.size < 2:
        return None
    return _figure(np.std(values, ddof=1) * math.sqrt(periods_per_year))


def sharpe(
    returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR
) -> float | None:
    """mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(periods_per_year); None when returns never vary."""
    values = _returns(returns)
    if values.size < 2:
        return None
    excess = values - period_rate(risk_free, periods_per_year)
    spread = np.std(excess, ddof=1)
    if spread == 0:
        return None
    return _figure(np.mean(excess) / spread * math.sqrt(periods_per_year))


def downside_deviation(
    returns: ArrayLike, *, required_return: float = 0.0, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR
) -> float | None:
    """sqrt(mean(min(r - t_p, 0) ** 2)) * sqrt(periods_per_year), t_p the per-period required return.

    The mean runs over every period (gains count as zero shortfall), as Sortino and empyrical define it.
    """
    values = _returns(returns)
    if values.size == 0:
        return None
    shortfall = np.minimum(values - period_rate(required_return, periods_per_year), 0.0)
    return _figure(math.sqrt(np.mean(shortfall**2)) * math.sqrt(periods_per_year))


def sortino(
    returns: ArrayLike, *, required_return: float = 0.0, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR
) -> float | None:
    """mean(r - t_p) * periods_per_year / downside deviation; None without a single shortfall."""
    values = _returns(returns)
    if values.size < 2:
        return None
    downside = downside_deviation(values, required_return=required_return, periods_per_year=periods_per_year)
    if not downside:
        return None
    excess = values - period_rate(required_return, periods_per_year)
    return _figure(np.mean(excess) * periods_per_year / downside)


def omega(
    returns: ArrayLike,
    *,
    risk_free: float = 0.0,
    required_return: float = 0.0,
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
) -> float | None:
    """sum of gains over the threshold / sum of shortfalls under it, threshold = rf_p + t_p per period.

    empyrical subtracts `risk_free` as given (per period); here both are annual and converted.
    """
    values = _returns(returns)
    if values.size < 2:
        return None
    threshold = period_rate(risk_free, periods_per_year) + period_rate(required_return, periods_per_year)
    excess = values - threshold
    losses = -np.sum(excess[excess < 0.0])
    if losses <= 0:
        return None
    return _figure(np.sum(excess[excess > 0.0]) / losses)


# --- drawdowns --------------------------------------------------------------------------------------


def wealth(returns: ArrayLike) -> Array:
    """1, then the compounded value after each return: n + 1 points."""
    values = _returns(returns)
    return np.concatenate(([1.0], np.cumprod(1.0 + values)))


def drawdown_series(returns: ArrayLike) -> Array:
    """(W_t - max_{s<=t} W_s) / max_{s<=t} W_s for every point of `wealth`: 0 at a new high, negative below."""
    points = wealth(returns)
    peaks = np.maximum.accumulate(points)
    return points / peaks - 1.0


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall from a high: its depth (negative) and where it started, bottomed and recovered.

    Positions index `wealth(returns)`; `recovery` is the first point back at the old high, None if
    the series ends below it. `duration` counts periods from the peak to the recovery (or to the end).
    """

    depth: float
    peak: int
    trough: int
    recovery: int | None
    duration: int


def max_drawdown(returns: ArrayLike) -> Drawdown | None:
    points = wealth(returns)
    if points.size < 2:
        return None
    peaks = np.maximum.accumulate(points)
    drawdowns = points / peaks - 1.0
    trough = int(np.argmin(drawdowns))
    depth = float(drawdowns[trough])
    if depth >= 0:
        return Drawdown(depth=0.0, peak=0, trough=0, recovery=0, duration=0)
    peak = int(np.argmax(points[: trough + 1]))  # the first point at the high before the trough
    recovered = np.nonzero(points[trough:] >= points[peak])[0]
    recovery = int(trough + recovered[0]) if recovered.size else None
    end = recovery if recovery is not None else points.size - 1
    return Drawdown(depth=depth, peak=peak, trough=trough, recovery=recovery, duration=end - peak)


def calmar(returns: ArrayLike, *, periods_per_year: int = DEFAULT_PERIODS_PER_YEAR) -> float | None:
    """Annual return / |maximum drawdown|; None without a drawdown."""
    drawdown = max_drawdown(returns)
    if drawdown is None or drawdown.depth >= 0:
        return None
    annual = annual_return(returns, periods_per_year=periods_per_year)
    return None if annual is None else _figure(annual / abs(drawdown.depth))


# --- tail risk --------------------------------------------------------------------------------------


def var_historical(returns: ArrayLike, *, confidence: float = 0.95) -> float | None:
    """The (1 - confidence) percentile of the returns, linearly interpolated (numpy's default)."""
    values = _returns(returns)
    if values.size == 0:
        return None
    return _figure(np.percentile(values, 100.0 * (1.0 - confidence)))


def cvar_historical(returns: ArrayLike, *, confidence: float = 0.95) -> float | None:
    """Expected shortfall: the mean of the worst k + 1 returns, k = floor((n - 1) * (1 - confidence))."""
    values = _returns(returns)
    if values.size == 0:
        return None
    cutoff = int((values.size - 1) * (1.0 - confidence))
    return _figure(np.mean(np.partition(values, cutoff)[: cutoff + 1]))


def _normal_quantile(probability: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(probability))


def var_parametric(returns: ArrayLike, *, confidence: float = 0.95) -> float | None:
    """Gaussian VaR: mean + z * std(ddof=1), z the (1 - confidence) quantile of the standard normal."""
    values = _returns(returns)
    if values.size < 2:
        return None
    return _figure(np.mean(values) + _normal_quantile(1.0 - confidence) * np.std(values, ddof=1))


def cvar_parametric(returns: ArrayLike, *, confidence: float = 0.95) -> float | None:
    """Gaussian expected shortfall: mean - std * pdf(z) / (1 - confidence)."""
    values = _returns(returns)
    if values.size < 2:
        return None
    alpha = 1.0 - confidence
    z = _normal_quantile(alpha)
    density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return _figure(np.mean(values) - np.std(values, ddof=1) * density / alpha)


def var_monte_carlo(
    returns: ArrayLike, *, confidence: float = 0.95, draws: int = MONTE_CARLO_DRAWS, seed: int = 0
) -> tuple[float | None, float | None]:
    """(VaR, CVaR) of `draws` normal returns with the sample's mean and std, from a seeded generator.

    Converges to the parametric figures as draws grow; kept because it extends to fat-tailed or
    correlated scenarios (the stress test draws from the same generator).
    """
    values = _returns(returns)
    if values.size < 2:
        return None, None
    simulated = np.random.default_rng(seed).normal(np.mean(values), np.std(values, ddof=1), draws)
    return var_historical(simulated, confidence=confidence), cvar_historical(simulated, confidence=confidence)


# --- against a benchmark, between assets --------------------------------------------------------------


def beta(returns: ArrayLike, benchmark_returns: ArrayLike, *, risk_free: float = 0.0, periods_per_year: int = 365):
    """cov(r - rf_p, b - rf_p) / var(b - rf_p): the sensitivity to the benchmark (BTC by default)."""
    values = _returns(returns)
    bench = _returns(benchmark_returns)
    if values.size != bench.size:
        raise ValueError("Returns and benchmark returns must cover the same periods.")
    if values.size < 2:
        return None
    rate = period_rate(risk_free, periods_per_year)
    independent = bench - rate
    residual = independent - np.mean(independent)
    variance = np.mean(residual**2)
    if variance == 0:
        return None
    return _figure(np.mean(residual * (values - rate)) / variance)


def correlation_matrix(returns_by_asset: dict[str, Sequence[float]]) -> dict[str, dict[str, float | None]]:
    """Pearson correlations of the assets' returns over the same periods; None where one never varies."""
    names = list(returns_by_asset)
    if not names:
        return {}
    matrix = np.vstack([_returns(returns_by_asset[name]) for name in names])
    with np.errstate(divide="ignore", invalid="ignore"):
        correlations = np.corrcoef(matrix) if matrix.shape[1] >= 2 else np.full((len(names), len(names)), np.nan)
    correlations = np.atleast_2d(correlations)
    return {row: {column: _figure(correlations[i, j]) for j, column in enumerate(names)} for i, row in enumerate(names)}


# --- trades -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeStats:
    count: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: float | None
    kelly_fraction: float | None


def trade_stats(trade_returns: ArrayLike) -> TradeStats:
    """Statistics of closed trades' returns (fractions: 0.02 = +2 %).

    win rate W = wins / trades (a trade at exactly 0 is not a win); profit factor = sum of gains /
    |sum of losses|; expectancy = mean return per trade; Kelly f* = W - (1 - W) / R with R = mean gain /
    |mean loss| (None without both gains and losses; negative means: do not take the bet).
    """
    values = _returns(trade_returns)
    count = int(values.size)
    if count == 0:
        return TradeStats(0, None, None, None, None)
    gains = values[values > 0]
    losses = values[values < 0]
    win_rate = gains.size / count
    loss_total = -np.sum(losses)
    profit_factor = _figure(np.sum(gains) / loss_total) if loss_total > 0 else None
    kelly = None
    if gains.size and losses.size:
        payoff = np.mean(gains) / -np.mean(losses)
        kelly = _figure(win_rate - (1.0 - win_rate) / payoff)
    return TradeStats(count, _figure(win_rate), profit_factor, _figure(np.mean(values)), kelly)


# --- everything at once ------------------------------------------------------------------------------


def metrics_summary(
    returns: ArrayLike,
    *,
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
    risk_free: float = 0.0,
    benchmark_returns: ArrayLike | None = None,
) -> dict[str, float | int | None]:
    """Every metric above for one return series, flat and JSON-safe, as pages, the API and backtests show it."""
    values = _returns(returns)
    drawdown = max_drawdown(values)
    summary: dict[str, float | int | None] = {
        "periods": int(values.size),
        "periods_per_year": periods_per_year,
        "risk_free": risk_free,
        "total_return": total_return(values),
        "annual_return": annual_return(values, periods_per_year=periods_per_year),
        "volatility": volatility(values, periods_per_year=periods_per_year),
        "sharpe": sharpe(values, risk_free=risk_free, periods_per_year=periods_per_year),
        "sortino": sortino(values, periods_per_year=periods_per_year),
        "calmar": calmar(values, periods_per_year=periods_per_year),
        "omega": omega(values, risk_free=risk_free, periods_per_year=periods_per_year),
        "max_drawdown": drawdown.depth if drawdown else None,
        "max_drawdown_peak": drawdown.peak if drawdown else None,
        "max_drawdown_trough": drawdown.trough if drawdown else None,
        "max_drawdown_recovery": drawdown.recovery if drawdown else None,
        "max_drawdown_duration": drawdown.duration if drawdown else None,
    }
    for confidence in CONFIDENCE_LEVELS:
        level = round(confidence * 100)
        monte_var, monte_cvar = var_monte_carlo(values, confidence=confidence)
        summary |= {
            f"var_{level}": var_historical(values, confidence=confidence),
            f"cvar_{level}": cvar_historical(values, confidence=confidence),
            f"var_{level}_parametric": var_parametric(values, confidence=confidence),
            f"cvar_{level}_parametric": cvar_parametric(values, confidence=confidence),
            f"var_{level}_monte_carlo": monte_var,
            f"cvar_{level}_monte_carlo": monte_cvar,
        }
    if benchmark_returns is not None:
        summary["beta"] = beta(values, benchmark_returns, risk_free=risk_free, periods_per_year=periods_per_year)
    return summary
