"""Project-level pages: the dashboard and the error pages."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, requires_csrf_token

from cryptovault.api.errors import error_body
from cryptovault.errors import DomainError
from exchanges.views.market import market_strip
from trading.views.portfolio import portfolio_summary

logger = logging.getLogger(__name__)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The ticker strip and the portfolio card (total value, allocation, PnL), both live: the strip from
    /ws/prices, the card fetched again by htmx when an order event or a tick arrives (static/js/trade.js)."""
    return render(request, "cryptovault/dashboard.html", {"market": market_strip(), **portfolio_summary(request.user)})


_ERRORS = {
    400: ("Bad request", "The request could not be understood.", "bad_request"),
    403: ("Forbidden", "You are not allowed to do that.", "permission_denied"),
    404: ("Not found", "There is nothing here, or it is not yours to see.", "not_found"),
    500: ("Something went wrong", "The error was logged; quote the request id if you contact us.", "server_error"),
}


def _error_response(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    title, default_message, code = _ERRORS[status]
    message = message or default_message
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(detail=message, code=code), status=status)
    request_id = getattr(request, "id", "")
    context = {"status": status, "title": title, "message": message, "request_id": request_id}
    try:
        return render(request, "error.html", context, status=status)
    except Exception:  # the layout itself needs the database; a 500 page must not fail too
        logger.exception("Rendering the %s page failed", status)
        body = f"<!DOCTYPE html><title>{title}</title><h1>{title}</h1><p>{message}</p><p>Request id: {request_id}</p>"
        return HttpResponse(body, status=status)


@requires_csrf_token
def bad_request(request, exception=None):
    return _error_response(request, 400)


@requires_csrf_token
def permission_denied(request, exception=None):
    # A domain refusal that is also a PermissionDenied (security.errors.IpNotAllowed) says why.
    return _error_response(request, 403, exception.message if isinstance(exception, DomainError) else None)


@requires_csrf_token
def page_not_found(request, exception=None):
    return _error_response(request, 404)


@csrf_exempt
def api_not_found(request, exception=None):
    """Any /api/ path no route answers: the API's JSON 404 for every method (no CSRF 403 first)."""
    return _error_response(request, 404)


@requires_csrf_token
def server_error(request):
    return _error_response(request, 500)


def csrf_failure(request, reason=""):
    """A stale form (often an expired session) gets the layout and a way forward, not Django's debug page."""
    return _error_response(request, 403, "The form had expired. Go back, reload the page and try again.")
