"""The request id and user id of the work in progress, for log lines and error bodies.

Context variables follow a request through sync and async code alike (asgiref copies
the context into the threads it runs sync views in), and Celery tasks set them too.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# A str, or an object rendering the user id when a line is logged (middleware.RequestUserId).
user_id_var: ContextVar[object] = ContextVar("user_id", default="-")

# Accept a client's id only if it is short and plain, so it cannot forge log lines.
_WELL_FORMED_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_or_generate_request_id(candidate: str | None) -> str:
    if candidate and _WELL_FORMED_REQUEST_ID.match(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str:
    return request_id_var.get()
