"""The API's JSON parser: a body Python's json module cannot read is a 400, whatever the reason.

DRF turns `ValueError` into a 400 but not `RecursionError`, which the json module raises for deeply
nested arrays (`[[[[...` a hundred thousand deep): that was a 500 on every JSON endpoint, even
before authentication. A number longer than Python reads (`int` has a digit limit) was a 400 whose
message told clients to call `sys.set_int_max_str_digits()`. Both now say what is wrong in our words.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

UNREADABLE = "The request body is not JSON we can read: {reason}."


class SafeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(UNREADABLE.format(reason="it is nested too deeply")) from None
        except ParseError as error:
            if "int_max_str_digits" in str(error.detail) or "Exceeds the limit" in str(error.detail):
                raise ParseError(UNREADABLE.format(reason="a number in it has too many digits")) from None
            raise
