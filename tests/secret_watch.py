"""Proof that no exchange secret leaks: every test's log records, responses and emails are scanned.

Fixtures that hand a test exchange credentials register them with `watch()`. The autouse fixture
in tests/conftest.py records, for each test, every log record (at any level, from any logger),
every response Django produced (test clients and the live server alike, through the base handler)
and every email sent, and fails the test naming where a watched value appeared. The totals are
printed at the end of the run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core import mail
from django.core.handlers.base import BaseHandler

WATCHED: set[str] = set()
MIN_LENGTH = 8  # shorter values (a key's last four characters, shown on purpose) are not secrets


@dataclass
class Totals:
    tests: int = 0
    responses: int = 0
    log_records: int = 0
    emails: int = 0


TOTALS = Totals()


def watch(*values: str) -> None:
    WATCHED.update(value for value in values if value and len(value) >= MIN_LENGTH)


class _LogRecorder(logging.Handler):
    def __init__(self, texts: list[tuple[str, str]]):
        super().__init__(level=logging.DEBUG)
        self.texts = texts

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not format still has its parts
            text = f"{record.msg!r} {record.args!r}"
        extras = {k: v for k, v in record.__dict__.items() if k not in _PLAIN_RECORD}
        self.texts.append((f"log {record.name}", f"{text} {extras!r} {record.exc_text or ''}"))


_PLAIN_RECORD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@dataclass
class Recording:
    texts: list[tuple[str, str]] = field(default_factory=list)
    handler: logging.Handler | None = None
    root_level: int = logging.WARNING

    def leaks(self, watched: set[str]) -> list[str]:
        found = []
        for where, text in self.texts:
            for value in watched:
                if value in text:
                    found.append(f"{where}: …{value[-4:]}")
        return found


def start(monkeypatch) -> Recording:
    recording = Recording()
    recording.handler = _LogRecorder(recording.texts)
    root = logging.getLogger()
    recording.root_level = root.level
    root.addHandler(recording.handler)
    root.setLevel(logging.DEBUG)

    def remember(response, request) -> None:
        if not getattr(response, "streaming", False):
            TOTALS.responses += 1
            body = response.content.decode("utf-8", "replace")
            headers = repr(dict(response.items()))
            recording.texts.append((f"response {request.method} {request.path}", body + headers))

    original_sync = BaseHandler.get_response
    original_async = BaseHandler.get_response_async

    def get_response(self, request):
        response = original_sync(self, request)
        remember(response, request)
        return response

    async def get_response_async(self, request):
        response = await original_async(self, request)
        remember(response, request)
        return response

    monkeypatch.setattr(BaseHandler, "get_response", get_response)
    monkeypatch.setattr(BaseHandler, "get_response_async", get_response_async)
    return recording


def finish(recording: Recording) -> list[str]:
    root = logging.getLogger()
    root.removeHandler(recording.handler)
    root.setLevel(recording.root_level)
    TOTALS.tests += 1
    TOTALS.log_records += sum(1 for where, _ in recording.texts if where.startswith("log "))
    for message in getattr(mail, "outbox", []):
        TOTALS.emails += 1
        parts = [message.subject, message.body] + [content for content, _type in getattr(message, "alternatives", [])]
        recording.texts.append((f"email to {message.to}", " ".join(map(str, parts))))
    leaks = recording.leaks(WATCHED) if WATCHED else []
    WATCHED.clear()
    return leaks
