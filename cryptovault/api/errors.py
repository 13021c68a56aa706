"""One JSON error shape for every API failure, carrying the request id.

``{"detail": "...", "code": "...", "errors": {"field": ["message"]}, "request_id": "..."}``
``errors`` is present only for validation failures. Every app's API gets the same mapping:
the project's domain errors answer their own status and code, Django's ValidationError (a
model's full_clean) 400 with per-field messages, a missing row (ObjectDoesNotExist, Http404)
404. Unexpected exceptions are logged with their traceback and answered with a 500 that
reveals nothing but the request id.
"""

from __future__ import annotations

import logging

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cryptovault.errors import DomainError
from cryptovault.request_context import current_request_id

logger = logging.getLogger("cryptovault.api")


def error_body(*, detail: str, code: str, errors: dict | None = None, extra: dict | None = None) -> dict:
    body: dict = {"detail": detail, "code": code, **(extra or {})}
    if errors:
        body["errors"] = errors
    body["request_id"] = current_request_id()
    return body


def _as_drf_error(exc: Exception) -> Exception:
    """Django's own errors, as the API answers them."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    ("non_field_errors" if name == NON_FIELD_ERRORS else name): messages
                    for name, messages in exc.message_dict.items()
                }
            )
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    if isinstance(exc, ObjectDoesNotExist):
        return exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, SuspiciousOperation):  # Django answers these 400 on pages; so does the API
        return exceptions.ParseError("The request could not be read.")
    return exc


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "request_too_large"


def api_exception_handler(exc, context):
    exc = _as_drf_error(exc)
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else None
        response = Response(
            error_body(detail=exc.message, code=exc.code, errors=errors, extra=exc.extra), status=exc.status_code
        )
        for header, value in getattr(exc, "headers", {}).items():
            response[header] = value
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context["view"].__class__.__name__)
        return Response(
            error_body(detail="Internal server error.", code="server_error"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(detail="Invalid input.", code="invalid", errors=detail)
    elif isinstance(exc, exceptions.APIException) and isinstance(exc.detail, dict) and "code" in exc.detail:
        # simplejwt's errors carry their own {"detail", "code", "messages"}
        response.data = error_body(detail=str(exc.detail.get("detail", "")), code=str(exc.detail["code"]))
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(
            detail=str(response.data.get("detail", "")) if isinstance(response.data, dict) else str(exc),
            code=codes if isinstance(codes, str) else "error",
        )
    return response
