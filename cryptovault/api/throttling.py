"""Throttles that also tell the client where it stands.

DRF answers 429 with Retry-After on its own; these subclasses record the limit and
what remains so ApiHeadersMiddleware can send X-RateLimit-* on every API response.
Counters live in the shared Redis cache, so limits hold across web processes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import throttling


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    window_seconds: int

    @property
    def policy(self) -> str:
        # The IETF RateLimit-Policy form: quota;w=window-in-seconds
        return f"{self.limit};w={self.window_seconds}"


class _ReportingThrottleMixin:
    def allow_request(self, request, view):
        allowed = super().allow_request(request, view)
        if self.rate is not None and getattr(self, "key", None) is not None:
            used = len(self.history)  # includes this request when it was allowed
            state = RateLimitState(
                limit=self.num_requests,
                remaining=max(self.num_requests - used, 0),
                window_seconds=self.duration,
            )
            current = getattr(request._request, "rate_limit", None)
            if current is None or state.remaining < current.remaining:
                request._request.rate_limit = state
        return allowed


class AnonymousRateThrottle(_ReportingThrottleMixin, throttling.AnonRateThrottle):
    """Per client IP, for requests without a signed-in user."""


class UserRateThrottle(_ReportingThrottleMixin, throttling.UserRateThrottle):
    """Per user once signed in (per IP otherwise, but AnonymousRateThrottle covers that)."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
