"""The API's one throttle: the request's budget and its endpoint's groups, in one Redis round trip.

Per user once signed in, per client IP otherwise (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
"user" and "anon"), plus every group `cryptovault.ratelimits.rate_limited` registered on the
request (sign-in, sign-up...), all counted by `count_request` in one pipeline. Where the client
stands is kept on the request for ApiHeadersMiddleware to send as X-RateLimit-*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import exceptions, throttling

from cryptovault.clientip import client_ip
from cryptovault.ratelimits import (
    TOO_MANY_ATTEMPTS,
    api_limit,
    count_request,
    group_limit,
    rate_limit_groups,
    rate_limit_record,
)

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView


class TooManyAttempts(exceptions.Throttled):
    """A group limit (sign-in, sign-up...) refused the request: 429 `rate_limited` with the words
    a rate-limited page shows, where the API budget answers DRF's 429 `throttled`."""

    default_detail = TOO_MANY_ATTEMPTS
    default_code = "rate_limited"

    def __init__(self, wait: int) -> None:
        super().__init__(wait=wait, detail=TOO_MANY_ATTEMPTS, code=self.default_code)
        self.detail = exceptions.ErrorDetail(TOO_MANY_ATTEMPTS, self.default_code)  # no "Expected available in"


class RateLimitThrottle(throttling.BaseThrottle):
    """The only entry in DEFAULT_THROTTLE_CLASSES: a second throttle would cost a second round trip."""

    counts_rate_limit_groups = True  # rate_limited() leaves its groups to this throttle

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        django_request = request._request
        ip = client_ip(django_request)
        budget = api_limit(request.user, ip)
        groups = [group_limit(group, ip) for group in rate_limit_groups(django_request)]
        states = count_request([budget, *groups] if budget else groups)
        rate_limit_record(django_request, states)
        budget_state, group_states = (states[0], states[1:]) if budget else (None, states)
        refused_groups = [state for state in group_states if state.exceeded]
        if refused_groups:
            raise TooManyAttempts(wait=max(state.reset_seconds for state in refused_groups))
        if budget_state is not None and budget_state.exceeded:
            self._wait = budget_state.reset_seconds
            return False
        return True

    def wait(self) -> int | None:
        return self._wait
