"""Cross-cutting HTTP behaviour: request ids, the access log, API headers."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils.functional import LazyObject

from cryptovault.request_context import accept_or_generate_request_id, request_id_var, user_id_var

access_logger = logging.getLogger("cryptovault.access")


class RequestIdMiddleware:
    """Give every request an id, expose it in X-Request-ID and in every log line.

    A client (or a proxy in front of us) may send its own id so that one trace spans
    systems; a malformed one is replaced rather than trusted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_or_generate_request_id(request.headers.get(settings.REQUEST_ID_HEADER))
        request.id = request_id
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(RequestUserId(request))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)
        response[settings.REQUEST_ID_HEADER] = request_id
        return response


class RequestUserId:
    """The id of the request's user, as soon as something has authenticated it, else "-".

    Rendered when a line is logged, never forcing authentication itself: logging must not
    add a session query to requests that need none (the liveness probe).
    """

    def __init__(self, request) -> None:
        self.request = request

    def __str__(self) -> str:
        user = vars(self.request).get("user")  # DRF assigns the user it authenticated here
        if isinstance(user, LazyObject):  # Django's lazy user: only if already evaluated
            user = getattr(self.request, "_cached_user", None)
        return str(user.pk) if user is not None and user.is_authenticated else "-"


class AccessLogMiddleware:
    """One log line per request: method, path, status, duration, user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user_id = str(user_id_var.get())
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        access_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
            },
        )
        return response


class ApiHeadersMiddleware:
    """X-API-Version on API responses, and the rate-limit state the throttles recorded."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            response["X-API-Version"] = settings.API_VERSION
            rate_limit = getattr(request, "rate_limit", None)  # a cryptovault.ratelimits.RateLimitState
            if rate_limit is not None:
                for header, value in rate_limit.headers().items():  # Limit, Remaining, Reset, Policy
                    response[header] = value
        return response
