"""How orders fill: fees, slippage, position sizing, stop-loss and take-profit.

Every order is decided at a candle's close and fills at the next candle's open (no look-ahead); a
target on the last candle is never filled. The default, `ExecutionModel()`, is the "simple" model the
backtrader comparison pins down: 0.1% fee per side on the traded value, no slippage, all in, no stops.

- Fee: `fee` per side, a fraction of the traded value (buy: cash falls by qty * price * (1 + fee);
  sell: rises by qty * price * (1 - fee)). `ExecutionModel.for_exchange("kraken")` takes the exchange's
  taker fee from the catalogue (market orders take).
- Slippage moves the fill price against the order (buys higher, sells lower), in basis points:
  "none"; "fixed": `slippage_bps`; "volume": `slippage_bps` + `impact_bps` per 1% of the volume the
  order takes (qty / volume of the candle before the fill: the last one known when the order is sent;
  the fill candle's own volume is only known once it closed), capped at `slippage_cap_bps` (no volume:
  the cap).
- Sizing scales the strategy's target exposure t (a fraction of equity): "all_in" holds t of equity
  (a target of 1 spends all the cash: qty = cash / (price * (1 + fee))); "fixed_fraction" holds
  t x `fraction`; "kelly" holds t x min(f*, `kelly_cap`), f* = W - (1 - W) / R estimated from the
  strategy's round trips closed so far (W their win rate, R mean gain / mean loss; never from the
  future). A round trip here is the signal's, open to open (or to the stop) net of fees, whatever size
  was held: a Kelly size of 0 (f* < 0) keeps learning from the signals it sits out. `fraction` until
  `kelly_min_trades` have closed, the cap while none has lost.
- Stops, fractions of the average entry price: `stop_loss` sells when a candle's low reaches
  entry x (1 - stop_loss), `take_profit` when its high reaches entry x (1 + take_profit), within
  the candle (the entry candle included, after its open). The fill is the stop's price, or the
  candle's open when it opened beyond it (a gap fills at the open, not at a price that never traded).
  If one candle reaches both, the stop-loss is assumed first (the candle does not say which came
  first; assuming the worse keeps results honest). After a stop the strategy must change its target
  before the engine buys again (a crossover re-enters on its next cross up, not on the next candle).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Self

from django.core.exceptions import ValidationError

SLIPPAGE_MODELS = ("none", "fixed", "volume")
SIZING_MODELS = ("all_in", "fixed_fraction", "kelly")
DEFAULT_FEE = 0.001


@dataclass(frozen=True)
class ExecutionModel:
    fee: float = DEFAULT_FEE
    slippage: str = "none"
    slippage_bps: float = 0.0
    impact_bps: float = 0.0
    slippage_cap_bps: float = 100.0
    sizing: str = "all_in"
    fraction: float = 1.0
    kelly_cap: float = 0.5
    kelly_min_trades: int = 10
    stop_loss: float | None = None
    take_profit: float | None = None

    def __post_init__(self) -> None:
        errors = self.problems()
        if errors:
            raise ValidationError(errors)

    def problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}

        def within(name: str, value: Any, low: float, high: float, *, above: bool = False) -> None:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                errors[name] = "Give a number."
            elif (value <= low if above else value < low) or value > high:
                errors[name] = f"Give a number {'above' if above else 'from'} {low:g} to {high:g}."

        within("fee", self.fee, 0.0, 0.1)
        if self.slippage not in SLIPPAGE_MODELS:
            errors["slippage"] = f"Use one of {', '.join(SLIPPAGE_MODELS)}."
        within("slippage_bps", self.slippage_bps, 0.0, 1_000.0)
        within("impact_bps", self.impact_bps, 0.0, 10_000.0)
        within("slippage_cap_bps", self.slippage_cap_bps, 0.0, 5_000.0)
        if self.sizing not in SIZING_MODELS:
            errors["sizing"] = f"Use one of {', '.join(SIZING_MODELS)}."
        within("fraction", self.fraction, 0.0, 1.0, above=True)
        within("kelly_cap", self.kelly_cap, 0.0, 1.0, above=True)
        if isinstance(self.kelly_min_trades, bool) or not isinstance(self.kelly_min_trades, int):
            errors["kelly_min_trades"] = "Give a whole number."
        elif not 1 <= self.kelly_min_trades <= 1_000:
            errors["kelly_min_trades"] = "Give a whole number from 1 to 1000."
        if self.stop_loss is not None:
            within("stop_loss", self.stop_loss, 0.0, 0.99, above=True)
        if self.take_profit is not None:
            within("take_profit", self.take_profit, 0.0, 100.0, above=True)
        return errors

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None) -> Self:
        """User input (form or JSON) -> a checked model; a ValidationError names each bad field."""
        data = dict(data or {})
        known = {item.name: item for item in fields(cls)}
        errors: dict[str, str] = {
            str(name)[:40]: f"Unknown setting; use {', '.join(known)}." for name in data if name not in known
        }
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known or value is None or value == "":
                continue
            if name in ("slippage", "sizing"):
                values[name] = str(value)
                continue
            try:
                values[name] = int(value) if name == "kelly_min_trades" else float(value)
            except (TypeError, ValueError):
                errors[name] = "Give a number."
        if errors:
            raise ValidationError(errors)
        return cls(**values)

    @classmethod
    def for_exchange(cls, exchange_id: str, **overrides: Any) -> Self:
        """The model with the exchange's taker fee (the catalogue's base tier)."""
        from exchanges.catalogue import exchange_spec

        return cls(**{"fee": float(exchange_spec(exchange_id).taker_fee), **overrides})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    # The compiled loop takes plain numbers.
    def kernel_args(self) -> tuple[float, int, float, float, float, int, float, float, int, float, float]:
        slippage = SLIPPAGE_MODELS.index(self.slippage)
        return (
            float(self.fee),
            slippage,
            float(self.slippage_bps) if slippage else 0.0,
            float(self.impact_bps) if slippage == 2 else 0.0,
            float(self.slippage_cap_bps),
            SIZING_MODELS.index(self.sizing),
            float(self.fraction),
            float(self.kelly_cap),
            int(self.kelly_min_trades),
            float(self.stop_loss) if self.stop_loss is not None else 0.0,
            float(self.take_profit) if self.take_profit is not None else 0.0,
        )


SIMPLE = ExecutionModel()
