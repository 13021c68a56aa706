"""What can go wrong with a backtest job, in words a trader can act on. Bad input (unknown strategy,
parameters out of range, a range without candles, fast >= slow) is a ValidationError naming its field."""

from __future__ import annotations

from cryptovault.errors import DomainError


class BacktestNotActive(DomainError):
    """Only a queued or running backtest can be cancelled."""

    status_code = 409
    code = "backtest_not_active"
    default_message = "This backtest has finished already: there is nothing to cancel."


class BacktestCompareInvalid(DomainError):
    code = "invalid"
    default_message = "Pick from 2 to 4 of your finished backtests to compare."

    def __init__(self, message: str | None = None):
        super().__init__(message, field="ids")
