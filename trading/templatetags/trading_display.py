"""How the trading pages write amounts: `{% load trading_display %}`.

Money is Decimal end to end; these filters only decide how a number reads. Quantities keep every
significant digit the ledger holds (0.00012 BTC stays 0.00012, never 0.00), values in USDT are cents,
prices use the market pages' six significant digits (so a price the socket moves looks the same), and
a signed figure gets a real minus sign so a loss reads as one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from functools import wraps

from django import template

from exchanges.views.market import price_text

register = template.Library()
MINUS = "\u2212"
CENT = Decimal("0.01")
# Wide enough for any amount the ledger holds (38 digits) rounded to cents: the default 28 digits
# raised InvalidOperation for a 30-digit total on the trade ticket's review.
WIDE = Context(prec=80)


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _cents(number: Decimal) -> Decimal:
    with localcontext(WIDE):
        return number.quantize(CENT, rounding=ROUND_HALF_UP)


def _number_filter(write: Callable[[Decimal], str]) -> Callable[[object], str]:
    """A filter that writes a number, and a dash where there is none (None, "", text, NaN, infinity)."""

    @wraps(write)
    def written(value: object) -> str:
        number = _decimal(value)
        return "—" if number is None else write(number)

    return register.filter(written)


@_number_filter
def qty(number: Decimal) -> str:
    """A quantity as the ledger holds it, without trailing zeros: 0.5, 1,234.00012."""
    if number == 0:
        return "0"
    text = f"{abs(number).normalize():,f}"
    return f"{MINUS}{text}" if number < 0 else text


@_number_filter
def usd(number: Decimal) -> str:
    """A value in USDT, to the cent: 10,000.00."""
    rounded = _cents(number)
    text = f"{abs(rounded):,.2f}"
    return f"{MINUS}{text}" if rounded < 0 else text


@_number_filter
def signed_usd(number: Decimal) -> str:
    """A profit or loss in USDT: +12.30, 0.00, or a loss with a real minus sign (U+2212)."""
    text = usd(number)
    return f"+{text}" if _cents(number) > 0 else text


@_number_filter
def price(number: Decimal) -> str:
    """A price as the market pages write it (exchanges.views.market.price_text)."""
    return price_text(number)


@_number_filter
def pct(number: Decimal) -> str:
    """A share in percent, two decimals: 42.10%. `signed_pct` writes a change: +1.25%."""
    return _percent(number, signed=False)


@_number_filter
def signed_pct(number: Decimal) -> str:
    return _percent(number, signed=True)


def _percent(number: Decimal, *, signed: bool) -> str:
    rounded = _cents(number)
    text = f"{abs(rounded):,.2f}%"
    if rounded < 0:
        return f"{MINUS}{text}"
    return f"+{text}" if signed and rounded > 0 else text


@register.filter
def direction(value: object) -> str:
    """`up`, `down` or `flat`: the class suffix (change-up, ...) that colours a signed figure."""
    number = _decimal(value)
    if number is None:
        return "flat"
    rounded = _cents(number)
    return "up" if rounded > 0 else "down" if rounded < 0 else "flat"
