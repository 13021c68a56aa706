"""The API's one throttle: the request's budget and its endpoint's groups, in one Redis round trip.

Per user once signed in, per client IP otherwise (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
"user" and "anon"), plus every group `cryptovault.ratelimits.rate_limited` registered on the
request (sign-in, sign-up... per client IP; order placement per user), all counted by
`count_request` in one pipeline. A per-user group is counted for the user DRF authenticated (JWT,
API key or session), so a trader's orders share one budget whichever way they arrive. Where the
client stands is kept on the request for ApiHeadersMiddleware to send as X-RateLimit-*.
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
    too_many_message,
)

if TYPE_CHECKING:  # rest_framework.views imports this module while it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView


class TooManyAttempts(exceptions.Throttled):
    """A group limit (sign-in, sign-up...) refused the request: 429 `rate_limited` with the words
    a rate-limited page shows, where the API budget answers DRF's 429 `throttled`."""

    default_detail = TOO_MANY_ATTEMPTS
    default_code = "rate_limited"

    def __init__(self, wait: int, message: str = TOO_MANY_ATTEMPTS) -> None:
        super().__init__(wait=wait, detail=message, code=self.default_code)
        self.detail = exceptions.ErrorDetail(message, self.default_code)  # no "Expected available in"


class RateLimitThrottle(throttling.BaseThrottle):
    """The only entry in DEFAULT_THROTTLE_CLASSES: a second throttle would cost a second round trip."""

    counts_rate_limit_groups = True  # rate_limited() leaves its groups to this throttle

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        django_request = request._request
        ip = client_ip(django_request)
        budget = api_limit(request.user, ip)
        groups = [
            group_limit(group, ip, per=per, user=request.user) for group, per in rate_limit_groups(django_request)
        ]
        states = count_request([budget, *groups] if budget else groups)
        rate_limit_record(django_request, states)
        budget_state, group_states = (states[0], states[1:]) if budget else (None, states)
        refused = [(limit, state) for limit, state in zip(groups, group_states, strict=True) if state.exceeded]
        if refused:
            limit, state = max(refused, key=lambda pair: pair[1].reset_seconds)
            raise TooManyAttempts(wait=state.reset_seconds, message=too_many_message(limit, state))
        if budget_state is not None and budget_state.exceeded:
            self._wait = budget_state.reset_seconds
            return False
        return True

    def wait(self) -> int | None:
        return self._wait
