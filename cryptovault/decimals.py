"""What a typed amount may look like: ASCII digits, one point, an optional sign and exponent.

Python's `Decimal` also reads other scripts' digits ("١٢٣" is 123), full-width digits and
underscores ("1_000"). A trader who pastes such text should be told, not have it silently read as
a number they may not have meant, so forms and the API accept only the plain spelling our docs
show ("0.015", "65000", "1e-3").
"""

from __future__ import annotations

import re

PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
NOT_PLAIN = "Enter a number with the digits 0-9 and a point, for example 0.015."


def is_plain_decimal(text: str) -> bool:
    return PLAIN_DECIMAL.fullmatch(text.strip()) is not None
