"""Decimal fields of the trading API: amounts go in and out as strings, and are never rounded.

Out: a plain decimal string without trailing zeros or exponent ("0.5", "65000"), as the portfolio
and the CSV exports write them.

In: a string ("0.015") or an integer. A JSON number with a fraction is read by the JSON parser as a
binary float before any code sees it, which silently changes a number with more than 15
significant digits (0.12345678901234567890 arrives as 0.12345678901234568). Such a number is
refused with a 400 asking for a string; one with at most 15 significant digits is exactly what the
client wrote and is accepted. What is accepted is kept exactly as written: the market's step and
tick sizes are checked by the order service, which refuses (never rounds) an amount finer than
they allow.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from cryptovault.decimals import NOT_PLAIN, is_plain_decimal
from trading.models.accounts import MONEY

# Any decimal with at most 15 significant digits survives a trip through a binary float.
FLOAT_EXACT_DIGITS = 15


class AmountField(serializers.DecimalField):
    """A decimal answered as a plain string ("0.5"); read-only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=None, decimal_places=None, normalize_output=True, **kwargs)


class AmountInputField(serializers.DecimalField):
    """A decimal sent as a string (or an integer); at most MONEY's digits, never rounded."""

    default_error_messages = {
        "inexact_float": 'Send this amount as a string (for example "0.015"): as a JSON number with more than '
        f"{FLOAT_EXACT_DIGITS} significant digits it cannot arrive exactly as written.",
        "not_a_number": 'Send a decimal number as a string, for example "0.015".',
        "not_plain": NOT_PLAIN,
    }

    def __init__(
        self, *, max_digits: int = MONEY["max_digits"], decimal_places: int = MONEY["decimal_places"], **kwargs
    ):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, (bool, list, dict)):
            self.fail("not_a_number")
        if isinstance(data, float):
            written = Decimal(repr(data))
            if written.is_finite() and len(written.normalize().as_tuple().digits) > FLOAT_EXACT_DIGITS:
                self.fail("inexact_float")
            data = repr(data)
        if isinstance(data, str) and not is_plain_decimal(data):
            self.fail("not_plain")
        return super().to_internal_value(data)

    def quantize(self, value: Decimal) -> Decimal:
        """Kept as written ("0.1", not "0.100000000000000000"): precision was validated already."""
        return value
