"""Technical indicators as pure numpy functions, and the `names=` mini-language the market API takes.

Each function takes a sequence of closes and answers float arrays the length of its input, NaN where
the indicator is still warming up, so every series lines up with the candles it was computed from.
The definitions are TA-Lib's (the reference traders compare against, and what the tests check to
1e-8): EMA seeded with the SMA of its first `period` values, RSI with Wilder's smoothing, MACD with
TA-Lib's alignment, Bollinger bands on the population standard deviation. A NaN in the input poisons
what follows it, as in TA-Lib; the API only feeds stored closes.

The recursive parts (EMA, Wilder) are a plain loop over Python floats: numpy has no recursive
filter, and a loop over 50,000 floats is a few milliseconds, linear in the number of candles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

MIN_PERIOD = 2
MAX_PERIOD = 500
MAX_K = 10.0
MAX_INDICATORS = 8
# Bounds the work of one request's parser before any period is read.
MAX_NAMES_LENGTH = 200
# Rows of windows per numpy call in bbands: bounds the temporary to CHUNK x period floats.
STD_CHUNK = 4096


def _closes(values: ArrayLike) -> Array:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("indicators take a one-dimensional series of closes")
    return array


def _nan(length: int) -> Array:
    return np.full(length, np.nan)


def _check_period(period: int, minimum: int = 1) -> None:
    if int(period) != period or period < minimum:
        raise ValueError(f"period must be a whole number of at least {minimum}, not {period!r}")


# --- moving averages -------------------------------------------------------------------------------
def sma(values: ArrayLike, period: int) -> Array:
    """Simple moving average: the mean of the last `period` closes; first value at index period-1."""
    _check_period(period)
    closes = _closes(values)
    out = _nan(len(closes))
    if len(closes) < period:
        return out
    # Each window summed on its own: a running cumsum difference loses digits as the total grows
    # (on a million candles it flipped fast-above-slow comparisons), and this stays O(n * period).
    out[period - 1 :] = sliding_window_view(closes, period).sum(axis=1) / period
    return out


def _ema_from(closes: Array, period: int, start: int, out: Array) -> None:
    """EMA into `out` from index `start` on (TA-Lib's default seeding): the value at `start` is the
    SMA of the `period` closes ending there, then prev + k * (close - prev) with k = 2 / (period + 1)."""
    k = 2.0 / (period + 1)
    prev = float(np.sum(closes[start - period + 1 : start + 1])) / period
    out[start] = prev
    tail = closes[start + 1 :].tolist()
    smoothed = [0.0] * len(tail)
    for index, close in enumerate(tail):
        prev = (close - prev) * k + prev  # TA-Lib's own order of operations, for bit-close results
        smoothed[index] = prev
    out[start + 1 :] = smoothed


def ema(values: ArrayLike, period: int) -> Array:
    """Exponential moving average, seeded like TA-Lib: the first value (index period-1) is the SMA."""
    _check_period(period)
    closes = _closes(values)
    out = _nan(len(closes))
    if len(closes) >= period:
        _ema_from(closes, period, period - 1, out)
    return out


# --- oscillators -----------------------------------------------------------------------------------
def _wilder(moves: Array, period: int) -> Array:
    """Wilder's average of `moves`: the mean of the first `period`, then (avg * (period-1) + move) / period."""
    avg = float(np.sum(moves[:period])) / period
    tail = moves[period:].tolist()
    averages = [avg] * (len(tail) + 1)
    for index, move in enumerate(tail, start=1):
        avg = (avg * (period - 1) + move) / period
        averages[index] = avg
    return np.array(averages)


def rsi(values: ArrayLike, period: int = 14) -> Array:
    """Relative strength index with Wilder's smoothing, as TA-Lib: the first value (index `period`)
    averages the first `period` gains and losses; each next one is (avg * (period-1) + new) / period.

    A window with no movement at all has no strength either way: 50 (TA-Lib answers 0, which would
    read as "deeply oversold" on a flat market). Only gains is 100, only losses 0.
    """
    _check_period(period)
    closes = _closes(values)
    out = _nan(len(closes))
    if len(closes) <= period:
        return out
    changes = np.diff(closes)
    gains = np.where(changes > 0, changes, 0.0)
    losses = np.where(changes < 0, -changes, 0.0)
    gain_avg = _wilder(gains, period)
    loss_avg = _wilder(losses, period)
    total = gain_avg + loss_avg
    moving = total != 0
    out[period:] = np.where(moving, 100.0 * gain_avg / np.where(moving, total, 1.0), 50.0)
    return out


def macd(values: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Array, Array, Array]:
    """MACD line (fast EMA - slow EMA), its signal line (EMA of the line) and the histogram (line - signal).

    As TA-Lib: both EMAs are seeded at index slow-1 (the fast one with the SMA of the `fast` closes
    ending there, so it differs from a stand-alone EMA until the seed fades), and all three series
    start together at index slow-1 + signal-1, where the signal line has its first value.
    """
    _check_period(fast, 2)
    _check_period(slow, 2)
    _check_period(signal)
    if fast >= slow:
        raise ValueError(f"the fast period ({fast}) must be shorter than the slow one ({slow})")
    closes = _closes(values)
    length = len(closes)
    line, signal_line, histogram = _nan(length), _nan(length), _nan(length)
    first = slow - 1 + signal - 1
    if length <= first:
        return line, signal_line, histogram
    fast_ema, slow_ema = _nan(length), _nan(length)
    _ema_from(closes, fast, slow - 1, fast_ema)
    _ema_from(closes, slow, slow - 1, slow_ema)
    raw_line = fast_ema - slow_ema
    signal_from_line = _nan(length)
    _ema_from(raw_line, signal, first, signal_from_line)
    line[first:] = raw_line[first:]
    signal_line[first:] = signal_from_line[first:]
    histogram[first:] = line[first:] - signal_line[first:]
    return line, signal_line, histogram


# --- bands -----------------------------------------------------------------------------------------
def bbands(values: ArrayLike, period: int = 20, k: float = 2.0) -> tuple[Array, Array, Array]:
    """Bollinger bands: middle = SMA(period); upper and lower = middle ± k x the population standard
    deviation (ddof=0, as TA-Lib) of the same window. Computed per window (not from running sums of
    squares), so a flat stretch late in a long series still gets exactly zero width."""
    _check_period(period)
    if not k > 0:
        raise ValueError(f"k must be positive, not {k!r}")
    closes = _closes(values)
    middle = sma(closes, period)
    upper, lower = _nan(len(closes)), _nan(len(closes))
    if len(closes) < period:
        return upper, middle, lower
    windows = sliding_window_view(closes, period)
    deviation = np.empty(len(windows))
    for start in range(0, len(windows), STD_CHUNK):
        deviation[start : start + STD_CHUNK] = windows[start : start + STD_CHUNK].std(axis=1)
    upper[period - 1 :] = middle[period - 1 :] + k * deviation
    lower[period - 1 :] = middle[period - 1 :] - k * deviation
    return upper, middle, lower


# --- names=sma:20,ema:50,rsi:14,macd,bbands:20:2 ---------------------------------------------------
@dataclass(frozen=True)
class IndicatorSpec:
    """One requested indicator: its kind and parameters; `key` is how answers name it."""

    kind: str
    params: tuple[float, ...]

    @property
    def key(self) -> str:
        return ":".join([self.kind, *(_number_text(value) for value in self.params)])

    @property
    def outputs(self) -> tuple[str, ...]:
        return KINDS[self.kind].outputs

    def compute(self, closes: ArrayLike) -> dict[str, Array]:
        kind = KINDS[self.kind]
        arrays = kind.function(
            closes, *(int(value) for value in self.params[: kind.periods]), *self.params[kind.periods :]
        )
        if isinstance(arrays, np.ndarray):
            arrays = (arrays,)
        return dict(zip(kind.outputs, arrays, strict=True))


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else format(value, "g")


@dataclass(frozen=True)
class Kind:
    function: Callable[..., Any]
    defaults: tuple[float, ...]
    periods: int  # how many leading parameters are periods (whole numbers); the rest are factors
    outputs: tuple[str, ...]
    syntax: str


KINDS: dict[str, Kind] = {
    "sma": Kind(sma, (), 1, ("value",), "sma:<period>"),
    "ema": Kind(ema, (), 1, ("value",), "ema:<period>"),
    "rsi": Kind(rsi, (14,), 1, ("value",), "rsi[:<period>] (default 14)"),
    "macd": Kind(
        macd, (12, 26, 9), 3, ("macd", "signal", "histogram"), "macd[:<fast>:<slow>:<signal>] (default 12:26:9)"
    ),
    "bbands": Kind(bbands, (20, 2.0), 1, ("upper", "middle", "lower"), "bbands[:<period>[:<k>]] (default 20:2)"),
}
NAMES_HELP = (
    f"Comma-separated, at most {MAX_INDICATORS}: "
    + ", ".join(f"`{kind.syntax}`" for kind in KINDS.values())
    + f". Periods are whole numbers from {MIN_PERIOD} to {MAX_PERIOD} (MACD's signal from 1), k is above 0 and at "
    f"most {MAX_K:g}. Example: `sma:20,ema:50,rsi:14,macd,bbands:20:2`."
)
_PART = re.compile(r"^[a-z]+(?::[0-9.]+)*$")


def _parse_part(part: str) -> IndicatorSpec:
    """One `kind:param:param`; a ValueError's message says what is wrong with it."""
    if not _PART.match(part):
        raise ValueError("write it as a name and numbers separated by colons, e.g. `sma:20`")
    kind_name, *texts = part.split(":")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ValueError("unknown indicator; use " + ", ".join(KINDS))
    if not texts and not kind.defaults:
        raise ValueError(f"needs a period: {kind.syntax}")
    if len(texts) > max(len(kind.defaults), 1):
        raise ValueError(f"too many numbers: {kind.syntax}")
    defaults = kind.defaults or (0,)
    params: list[float] = []
    for index, default in enumerate(defaults):
        text = texts[index] if index < len(texts) else None
        if index < kind.periods:
            value = _period(text, default, minimum=1 if (kind_name, index) == ("macd", 2) else MIN_PERIOD)
        else:
            value = _factor(text, default)
        params.append(value)
    if kind_name == "macd" and params[0] >= params[1]:
        raise ValueError("the fast period must be shorter than the slow one")
    return IndicatorSpec(kind_name, tuple(params))


def _period(text: str | None, default: float, *, minimum: int) -> int:
    if text is None:
        return int(default)
    if not text.isdigit() or not minimum <= int(text) <= MAX_PERIOD:
        raise ValueError(f"periods are whole numbers from {minimum} to {MAX_PERIOD}")
    return int(text)


def _factor(text: str | None, default: float) -> float:
    if text is None:
        return float(default)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_K:  # also refuses NaN
        raise ValueError(f"k is a number above 0 and at most {MAX_K:g}")
    return value


def parse_indicators(text: str) -> list[IndicatorSpec]:
    """`"sma:20,ema:50,rsi:14,macd,bbands:20:2"` -> specs, in the order asked, each once.

    Spaces and case are forgiven; an indicator named twice (`rsi,rsi:14`) is computed once. Anything
    else wrong is a ValidationError on `names` whose messages quote each bad part.
    """
    if len(text) > MAX_NAMES_LENGTH:
        raise ValidationError(
            {"names": [f"Ask for at most {MAX_INDICATORS} indicators ({MAX_NAMES_LENGTH} characters)."]}
        )
    parts = [part.strip().lower() for part in text.split(",")]
    if not any(parts):
        raise ValidationError({"names": ["Name at least one indicator, e.g. `sma:20`."]})
    specs: dict[str, IndicatorSpec] = {}
    problems: list[str] = []
    for part in parts:
        if not part:
            problems.append("An empty name between commas.")
            continue
        try:
            spec = _parse_part(part)
        except ValueError as error:
            problems.append(f"`{part}`: {error}.")
            continue
        specs.setdefault(spec.key, spec)
    if problems:
        raise ValidationError({"names": problems})
    if len(specs) > MAX_INDICATORS:
        raise ValidationError({"names": [f"Ask for at most {MAX_INDICATORS} indicators at once, not {len(specs)}."]})
    return list(specs.values())


def as_json_list(array: Array) -> list[float | None]:
    """Floats for JSON, None where the value is not a finite number (warm-up)."""
    values = array.tolist()
    for index in np.flatnonzero(~np.isfinite(array)).tolist():
        values[index] = None
    return values


def compute_indicators(specs: Sequence[IndicatorSpec], closes: ArrayLike) -> dict[str, dict[str, list[float | None]]]:
    """{spec.key: {output: values}}, every list as long as `closes` and None during warm-up:
    `{"sma:20": {"value": [...]}, "macd:12:26:9": {"macd", "signal", "histogram"}, "bbands:20:2": {"upper",
    "middle", "lower"}}`."""
    array = _closes(closes)
    return {spec.key: {name: as_json_list(values) for name, values in spec.compute(array).items()} for spec in specs}
