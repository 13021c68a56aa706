"""The activity CSV: one file, one name, for the page's "Export CSV" and the API's export.

It holds every record the filter matches (not one page), streamed a chunk of rows at a time,
with the API list's field names as its header row. A spreadsheet runs a cell starting with
= + - @ (or a tab or carriage return) as a formula, and a user agent or a typed address is
anyone's to choose, so such cells are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC

from django.core.handlers.asgi import ASGIRequest
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from security.models import AuditEvent
from security.selectors import ActivityRow, activity_row

COLUMNS = (
    "at",
    "action",
    "action_label",
    "outcome",
    "by",
    "via",
    "ip",
    "browser",
    "user_agent",
    "request_id",
    "details",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 500


def activity_export_filename() -> str:
    return f"cryptovault-activity-{timezone.now():%Y-%m-%d}.csv"


def csv_safe(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _cells(row: ActivityRow) -> list[str]:
    details = json.dumps(row.details, sort_keys=True, default=str) if row.details else ""
    values = (
        row.at.astimezone(UTC).isoformat(),  # with its offset: unambiguous in any spreadsheet
        row.action,
        row.action_label,
        row.outcome,
        row.by,
        row.via,
        row.ip or "",
        row.browser,
        row.user_agent,
        row.request_id,
        details,
    )
    return [csv_safe(value) for value in values]


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, line: str) -> str:
        return line


def _line(writer, event: AuditEvent) -> str:
    return writer.writerow(_cells(activity_row(event)))


def activity_csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=_CHUNK):
        yield _line(writer, event)


async def activity_csv_lines_async(events: QuerySet[AuditEvent]) -> AsyncIterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    async for event in events.aiterator(chunk_size=_CHUNK):
        yield _line(writer, event)


def activity_csv_response(request: HttpRequest, events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    """`events` (already gated and filtered) as a CSV download that no cache keeps.

    Streamed under WSGI (gunicorn) and ASGI (uvicorn) alike: each server gets the kind of iterator
    it can stream (Django buffers the other kind whole, with a warning).
    """
    served_by_asgi = isinstance(getattr(request, "_request", request), ASGIRequest)
    lines = activity_csv_lines_async(events) if served_by_asgi else activity_csv_lines(events)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{activity_export_filename()}"'
    response["Cache-Control"] = "no-store"
    return response
