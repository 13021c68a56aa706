"""OpenAPI for every app's API: each operation documents the errors it can answer, in the one error shape.

Listing errors by hand per view drifted from what the views answer (a 404 for an invalid page, a
429 on every endpoint, a 400 wherever input is parsed). `ApiAutoSchema` derives them from what
the view is made of, the same things that make DRF answer them:

- 400 where the operation reads a request body or query parameters (validation), and 415 where
  it reads a body (one sent as a media type no parser reads, or with no Content-Type);
- 401 where the view authenticates: a credential that is not valid (bad JWT, revoked API key)
  is refused even on an open endpoint; simplejwt's token views check a token from the body;
- 403 where the view authenticates or its permissions can refuse: a permission, an API key's
  scope or IP allowlist, a CSRF check on a session, a sensitive action's gate;
- 404 where the path has parameters (another user's row is "not found") or the list is paginated
  (a page past the end);
- 429 where throttles apply (every endpoint has the global ones).

503 is never inferred: a view that can answer it declares it with `error_responses(503)`, and so
does an open view that checks credentials from its body (token/sms/ declares its 401). A view may
also declare any status itself with a more specific shape or description (the token endpoint's
401 with `methods`): what a view declares wins.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny
from rest_framework_simplejwt.views import TokenViewBase

from cryptovault.api.serializers import ErrorSerializer

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid input: per-field messages in `errors`.",
    401: "Not signed in, or the credentials sent are not valid (wrong, expired or revoked): see `code`.",
    403: "Not allowed: see `code` (permission_denied, which also covers an API key without the scope this "
    "endpoint needs or used from an address it does not allow; email_not_verified, two_factor_required, "
    "step_up_required, ...).",
    404: "Not found (or not yours), or a page past the end of a list.",
    415: "The request body is not in a media type this endpoint reads (see its request body's content types).",
    429: "Too many requests: wait for the Retry-After seconds (X-RateLimit-* say where the client stands).",
    503: "A service this needs is unavailable right now: try again in a minute.",
}


def error_response(status: int, description: str | None = None, serializer: Any = ErrorSerializer) -> OpenApiResponse:
    """One documented error answer, in the error shape unless a view needs a richer one."""
    return OpenApiResponse(serializer, description=description or ERROR_DESCRIPTIONS[status])


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Errors a view declares itself (`responses={200: ..., **error_responses(503)}`).

    Only needed for what ApiAutoSchema cannot see from the view, such as 503.
    """
    return {status: error_response(status) for status in statuses}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the error answers the view's make-up implies."""

    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in sorted(self.implied_error_statuses(operation)):
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(error_response(status), str(status))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def implied_error_statuses(self, operation: dict[str, Any]) -> set[int]:
        """The error statuses DRF (and our plumbing) can answer for this operation."""
        statuses: set[int] = set()
        parameters = operation.get("parameters", [])
        if "requestBody" in operation or any(parameter["in"] == "query" for parameter in parameters):
            statuses.add(400)
        if "requestBody" in operation:
            statuses.add(415)
        authenticates = bool(self.view.get_authenticators())
        if authenticates or isinstance(self.view, TokenViewBase):
            statuses.add(401)
        if authenticates or self._permissions_can_refuse():
            statuses.add(403)
        if any(parameter["in"] == "path" for parameter in parameters) or self._is_paginated_list():
            statuses.add(404)
        if self.view.get_throttles():
            statuses.add(429)
        return statuses

    def _permissions_can_refuse(self) -> bool:
        """Without authentication, only a view that is not open to anyone (no AllowAny) can answer 403.

        Open views may add permissions that judge a credential (an API key's scope); with no
        authenticator, no credential ever reaches them.
        """
        permissions = self.view.get_permissions()
        return bool(permissions) and not any(isinstance(permission, AllowAny) for permission in permissions)

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
