"""Per-client-IP limits on the account endpoints, pages and API alike (django-ratelimit).

The counters live in the shared cache, so a limit holds across web processes. Each answer
carries X-RateLimit-Limit/-Remaining/-Policy; a refused one is a 429 with Retry-After.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from cryptovault.api.errors import error_body
from cryptovault.api.throttling import RateLimitState
from cryptovault.clientip import client_ip_for_ratelimit

_WINDOWS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _window_seconds(rate: str) -> int:
    unit = rate.split("/")[1]
    multiplier = int(unit[:-1] or 1) if unit[:-1].isdigit() else 1
    return multiplier * _WINDOWS[unit[-1]]


def _too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    message = "Too many attempts from your network. Wait a minute and try again."
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(detail=message, code="rate_limited"), status=429)
    else:
        response = render(
            request, "error.html", {"status": 429, "title": "Too many attempts", "message": message}, status=429
        )
    response["Retry-After"] = str(max(1, retry_after))
    return response


def rate_limited(group: str):
    """Limit POSTs to the decorated view by `settings.ACCOUNTS_RATE_LIMITS[group]` per client IP."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method != "POST":
                return view(request, *args, **kwargs)
            rate = settings.ACCOUNTS_RATE_LIMITS[group]
            usage = get_usage(
                request,
                group=f"accounts:{group}",
                key=client_ip_for_ratelimit,
                rate=rate,
                method="POST",
                increment=True,
            )
            state = RateLimitState(
                limit=usage["limit"],
                remaining=max(0, usage["limit"] - usage["count"]),
                window_seconds=_window_seconds(rate),
            )
            if usage["should_limit"]:
                response = _too_many(request, usage["time_left"])
            else:
                try:
                    response = view(request, *args, **kwargs)
                except Exception as exc:  # a 404 or 403 from the view still says where the client stands
                    response = response_for_exception(request, exc)
            request.rate_limit = state  # ApiHeadersMiddleware renders it on API answers
            response["X-RateLimit-Limit"] = str(state.limit)
            response["X-RateLimit-Remaining"] = str(state.remaining)
            response["X-RateLimit-Policy"] = state.policy
            return response

        return wrapped

    return decorator
