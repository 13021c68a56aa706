"""What a strategy is, and how its parameters are declared and checked.

Adding a strategy (and nothing else: the registry, the optimiser, the pages and the API pick it up):

1. Declare its parameters as a frozen dataclass subclassing `Params`, each field made with `period()`,
   `integer()` or `number()` (type, default, bounds, help text). Cross-field rules go in `check()`,
   returning {field: message}. `Params.from_dict` then turns user input into a checked instance or a
   django ValidationError with one message per bad field (unknown names included).
2. Subclass `Strategy`: `name` (the registry key), `label`, `description`, `params` (the dataclass) and
   `targets(candles, params)`, computed vectorised with numpy (reuse analytics.indicators).
3. Register it in `strategies/__init__.py` (`STRATEGIES`).

`targets` answers one float per candle, decided at that candle's close from that candle and the ones
before it only: NaN = no opinion (keep what is held), otherwise the wanted exposure, a fraction of
equity from 0 (flat) to 1 (all in). The engine acts on a change of target at the next candle's open,
scaled by the execution model's sizing; it never reads a target on the last candle.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
from django.core.exceptions import ValidationError

from analytics.backtest.candles import Candles
from analytics.indicators import MAX_PERIOD, MIN_PERIOD


def integer(default: int, *, minimum: int, maximum: int, help: str = "") -> Any:
    """A whole-number parameter within [minimum, maximum]."""
    return field(default=default, metadata={"kind": int, "min": minimum, "max": maximum, "help": help})


def period(default: int, *, help: str = "", minimum: int = MIN_PERIOD) -> Any:
    """An indicator period: whole bars within the indicators' own bounds (MIN_PERIOD..MAX_PERIOD)."""
    return integer(default, minimum=minimum, maximum=MAX_PERIOD, help=help)


def number(
    default: float,
    *,
    minimum: float,
    maximum: float,
    help: str = "",
    exclusive_minimum: bool = False,
) -> Any:
    """A real-valued parameter within [minimum, maximum] (or (minimum, maximum] if exclusive_minimum)."""
    return field(
        default=default,
        metadata={"kind": float, "min": minimum, "max": maximum, "help": help, "exclusive_min": exclusive_minimum},
    )


@dataclass(frozen=True)
class Params:
    """Base of every strategy's parameters: typed fields with bounds, checked by `from_dict`."""

    @classmethod
    def fields(cls) -> dict[str, dict[str, Any]]:
        """Each parameter's kind, default, bounds and help, for forms, the API schema and the optimiser."""
        return {
            item.name: {
                "type": item.metadata["kind"].__name__,
                "default": item.default,
                "min": item.metadata["min"],
                "max": item.metadata["max"],
                "help": item.metadata["help"],
            }
            for item in dataclasses.fields(cls)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None) -> Self:
        """User input -> checked parameters; missing ones take their defaults. Raises ValidationError
        with a message per field: unknown names, wrong types, out of range, then `check()`'s rules."""
        data = dict(data or {})
        errors: dict[str, list[str]] = {}
        known = {item.name: item for item in dataclasses.fields(cls)}
        for name in data:
            if name not in known:
                errors.setdefault(str(name)[:40], []).append(
                    f"Unknown parameter; this strategy takes {', '.join(known) or 'none'}."
                )
        values: dict[str, Any] = {}
        for name, item in known.items():
            if name not in data or data[name] is None or data[name] == "":
                values[name] = item.default
                continue
            try:
                values[name] = _coerce(data[name], item.metadata)
            except ValueError as error:
                errors.setdefault(name, []).append(str(error))
        if not errors:
            instance = cls(**values)
            for name, message in instance.check().items():
                errors.setdefault(name, []).append(message)
            if not errors:
                return instance
        raise ValidationError(errors)

    def check(self) -> dict[str, str]:
        """Rules across fields: {field: message}; empty when the combination is fine."""
        return {}

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: Any, meta: Mapping[str, Any]) -> int | float:
    kind, low, high = meta["kind"], meta["min"], meta["max"]
    if isinstance(value, bool):
        raise ValueError("Give a number, not true or false.")
    if kind is int:
        try:
            number_value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"Give a whole number from {low} to {high}.") from None
        if not number_value.is_integer():
            raise ValueError(f"Give a whole number from {low} to {high}.")
        coerced: int | float = int(number_value)
        if not low <= coerced <= high:
            raise ValueError(f"Give a whole number from {low} to {high}, not {coerced}.")
        return coerced
    try:
        coerced = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Give a number from {low:g} to {high:g}.") from None
    too_low = coerced <= low if meta.get("exclusive_min") else coerced < low
    if not math.isfinite(coerced) or too_low or coerced > high:
        bound = f"above {low:g}" if meta.get("exclusive_min") else f"from {low:g}"
        raise ValueError(f"Give a number {bound} to {high:g}, not {value}.")
    return coerced


@dataclass(frozen=True)
class FastSlow(Params):
    """Two periods where the fast one must be the shorter."""

    fast: int = period(10, help="Bars in the fast average.")
    slow: int = period(30, help="Bars in the slow average.")

    def check(self) -> dict[str, str]:
        if self.fast >= self.slow:
            return {"fast": f"The fast period ({self.fast}) must be shorter than the slow one ({self.slow})."}
        return {}


class Strategy(ABC):
    """A stateless rule from candles to target exposures; subclasses set the class attributes below."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[type[Params]]

    @abstractmethod
    def targets(self, candles: Candles, params: Any) -> np.ndarray:
        """One float per candle: NaN (keep) or the wanted exposure in [0, 1], from data up to that close."""

    def warmup(self, params: Any) -> int:
        """Bars before the first possible signal (walk-forward prepends them to each test window)."""
        return max((value for value in params.as_dict().values() if isinstance(value, int)), default=0) + 1

    def parse(self, data: Mapping[str, Any] | None) -> Params:
        return self.params.from_dict(data)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "description": self.description, "params": self.params.fields()}


def crossings(difference: np.ndarray) -> np.ndarray:
    """Targets from a difference series: 1 where it turns strictly positive from strictly negative on this
    bar (d[i-1] < 0 < d[i]), 0 where it turns strictly negative from strictly positive, NaN elsewhere.
    A touch (a zero) is no cross, and NaNs (warm-up) compare false, so nothing fires before both exist."""
    target = np.full(len(difference), np.nan)
    if len(difference) < 2:
        return target
    before, now = difference[:-1], difference[1:]
    with np.errstate(invalid="ignore"):
        up = (before < 0) & (now > 0)
        down = (before > 0) & (now < 0)
    target[1:][up] = 1.0
    target[1:][down] = 0.0
    return target


def levels(enter: np.ndarray, leave: np.ndarray) -> np.ndarray:
    """Targets from two boolean conditions: 1 where `enter` holds, 0 where `leave` holds (enter wins a tie
    only if leave is false), NaN elsewhere."""
    target = np.full(len(enter), np.nan)
    target[leave] = 0.0
    target[enter & ~leave] = 1.0
    return target
