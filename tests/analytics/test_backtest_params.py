"""Strategy parameters and execution settings are checked field by field, with messages a user can act on."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from analytics.backtest.execution import ExecutionModel
from analytics.backtest.strategies import STRATEGIES, get_strategy
from analytics.indicators import MAX_PERIOD, MIN_PERIOD


def errors_of(call):
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


def test_every_registered_strategy_runs_with_its_defaults_and_describes_its_parameters():
    assert set(STRATEGIES) == {"sma_cross", "ema_cross", "rsi_reversion", "bollinger_breakout", "macd", "dca", "grid"}
    for name, strategy in STRATEGIES.items():
        params = strategy.parse({})
        assert params == strategy.params.from_dict(params.as_dict())
        description = strategy.describe()
        assert description["name"] == name and description["params"]
        for field in description["params"].values():
            assert field["min"] <= field["default"] <= field["max"] and field["help"]


def test_an_unknown_strategy_is_refused_naming_the_known_ones():
    errors = errors_of(lambda: get_strategy("moon_shot"))
    assert "moon_shot" in errors["strategy"][0] and "sma_cross" in errors["strategy"][0]


@pytest.mark.parametrize("name", ["sma_cross", "ema_cross"])
def test_a_fast_period_not_shorter_than_the_slow_one_is_refused(name):
    for fast, slow in ((30, 30), (50, 20)):
        errors = errors_of(lambda fast=fast, slow=slow: get_strategy(name).parse({"fast": fast, "slow": slow}))
        assert errors == {"fast": [f"The fast period ({fast}) must be shorter than the slow one ({slow})."]}


def test_periods_outside_the_indicators_bounds_are_refused_with_the_bounds():
    strategy = get_strategy("sma_cross")
    errors = errors_of(lambda: strategy.parse({"fast": MIN_PERIOD - 1, "slow": MAX_PERIOD + 1}))
    assert errors == {
        "fast": [f"Give a whole number from {MIN_PERIOD} to {MAX_PERIOD}, not {MIN_PERIOD - 1}."],
        "slow": [f"Give a whole number from {MIN_PERIOD} to {MAX_PERIOD}, not {MAX_PERIOD + 1}."],
    }
    assert strategy.parse({"fast": str(MIN_PERIOD), "slow": float(MAX_PERIOD)}).as_dict() == {
        "fast": MIN_PERIOD,
        "slow": MAX_PERIOD,
    }


def test_wrong_types_and_unknown_names_are_refused_per_field():
    errors = errors_of(lambda: get_strategy("macd").parse({"fast": "twelve", "signal": 2.5, "speed": 3, "slow": True}))
    assert set(errors) == {"fast", "signal", "speed", "slow"}
    assert "Unknown parameter" in errors["speed"][0] and "fast, slow, signal" in errors["speed"][0]
    assert errors["slow"] == ["Give a number, not true or false."]


def test_other_strategies_check_their_own_rules():
    assert "lower" in errors_of(lambda: get_strategy("rsi_reversion").parse({"lower": 70, "upper": 30}))
    assert set(errors_of(lambda: get_strategy("bollinger_breakout").parse({"k": 0}))) == {"k"}
    assert set(errors_of(lambda: get_strategy("grid").parse({"levels": 1, "spacing": 0.9}))) == {"levels", "spacing"}
    assert set(errors_of(lambda: get_strategy("dca").parse({"every": 0, "buys": 5000}))) == {"every", "buys"}


def test_execution_settings_are_checked_and_the_default_is_the_simple_model():
    simple = ExecutionModel()
    assert (simple.fee, simple.slippage, simple.sizing, simple.stop_loss, simple.take_profit) == (
        0.001,
        "none",
        "all_in",
        None,
        None,
    )
    errors = errors_of(
        lambda: ExecutionModel.from_dict(
            {"fee": -1, "slippage": "huge", "sizing": "martingale", "fraction": 0, "stop_loss": 1.5, "colour": "red"}
        )
    )
    assert set(errors) == {"colour"}  # unknown names first, before anything else is read
    errors = errors_of(
        lambda: ExecutionModel.from_dict({"fee": -1, "slippage": "huge", "sizing": "martingale", "fraction": 0})
    )
    assert set(errors) == {"fee", "slippage", "sizing", "fraction"}
    model = ExecutionModel.from_dict({"fee": "0.002", "sizing": "kelly", "kelly_cap": "0.25", "stop_loss": "0.05"})
    assert (model.fee, model.sizing, model.kelly_cap, model.stop_loss) == (0.002, "kelly", 0.25, 0.05)


def test_the_fee_can_come_from_the_exchange_catalogue():
    from exchanges.catalogue import exchange_spec

    model = ExecutionModel.for_exchange("kraken", slippage="fixed", slippage_bps=5)
    assert model.fee == float(exchange_spec("kraken").taker_fee) > 0
    assert model.slippage_bps == 5
