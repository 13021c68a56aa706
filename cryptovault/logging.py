"""Log filters and formatters: request context on every line, secrets masked everywhere.

Masking is the last line of defence. Code should never log a secret, but a library
echoing a URL with a token, or an exception carrying a request body, must not leak
exchange keys, passwords, OTP seeds or tokens into log storage.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from cryptovault.request_context import request_id_var, user_id_var

MASK = "********"

_SENSITIVE_NAME = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"authorization|otp|seed|signature|sessionid|csrftoken|cookie)"
)
_SENSITIVE = re.compile(_SENSITIVE_NAME, re.IGNORECASE)
_SECRET_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # Credentials after an auth scheme, before the key=value rule would stop at the scheme name.
    # Case-sensitive schemes (plus "bearer"): Django's "CSRF token missing." is not a credential.
    (re.compile(r"\b(Bearer|bearer|BEARER|Basic|Token|Api-Key)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # key=value, key: value, "key": "value" (JSON, query strings, headers, reprs). A name is matched
    # whole (from its start, possessively), then checked in Python: linear on any line.
    (
        re.compile(
            r"""(?<![\w-])(?P<key>["']?(?P<name>[\w-]++)["']?\s*[=:]\s*)(?P<quote>["']?)(?P<value>[^\s"'&,;}]+)"""
        ),
        lambda match: (
            f"{match.group('key')}{match.group('quote')}{MASK}"
            if _SENSITIVE.search(match.group("name"))
            else match.group(0)
        ),
    ),
    # One-time keys carried in URL paths: allauth's password-reset and email-confirmation links.
    # Only token-length segments: /verify-email/resend/ or /token/refresh/ stay readable.
    (re.compile(r"(?i)(/(?:key|confirm-email|verify-email|token)/)[^/\s?#\"']{16,}"), rf"\1{MASK}"),
    # Personal API keys (cvk_<prefix>_<secret>): the prefix names the key, the rest is the secret.
    (re.compile(r"\b(cvk_[0-9a-f]{8}_)[A-Za-z0-9_-]+"), rf"\1{MASK}"),
    # JWTs and Fernet ciphertexts are recognisable by their prefix.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), MASK),
    # Exchange keys: long runs mixing upper case, lower case and digits (see _key_like_run).
    (re.compile(r"[A-Za-z0-9+/_=-]{32,}"), lambda match: _key_like_run(match.group(0))),
]


def _key_like(text: str) -> bool:
    return (
        len(text) >= 32
        and any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    )


def _key_like_run(run: str) -> str:
    """An exchange key or secret (request ids are hex, so never all three kinds of character).

    A run with "/" is one secret only when it also holds base64's "+" or "=" (Kraken's secrets);
    otherwise it is a path, and only its key-like segments are masked: /api/v1/market/BTC-USDT/
    stays readable. Checked in plain Python over runs the regex finds in one pass, so a long line
    costs linear time (lookaheads here made a 10,000-character URL take half a minute).
    """
    if "/" in run and "+" not in run and "=" not in run:
        return "/".join(MASK if _key_like(segment) else segment for segment in run.split("/"))
    return MASK if _key_like(run) else run


def mask_secrets(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RequestContextFilter(logging.Filter):
    """Stamp each record with the request id and user id of the work in progress."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = str(user_id_var.get())  # may be rendered lazily (RequestUserId)
        return True


# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class SecretMaskingFilter(logging.Filter):
    """Rewrite the message, `extra` values and any traceback with secret-looking values masked.

    Formatters may render the traceback again from `exc_info`, so they mask too (see
    MaskingFormatterMixin); this filter covers the text a formatter takes as it is.
    """

    _traceback_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = mask_secrets(message)
        record.args = None
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        elif record.exc_info:
            record.exc_text = mask_secrets(self._traceback_formatter.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        for name, value in vars(record).items():
            if name not in _STANDARD_RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, mask_secrets(value))
        return True


class MaskingFormatterMixin:
    """Mask tracebacks and stacks that a formatter renders itself from `exc_info`."""

    def formatException(self, ei) -> str:
        return mask_secrets(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask_secrets(super().formatStack(stack_info))


class TextFormatter(MaskingFormatterMixin, logging.Formatter):
    """Readable lines for development."""


class JsonFormatter(MaskingFormatterMixin, _JsonFormatter):
    """One JSON object per line, for log shippers in production."""
