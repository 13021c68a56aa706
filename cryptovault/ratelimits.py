"""Rate limits for every app: atomic counters in Redis, shared by pages and API.

A limit is a fixed window counted per subject (a client IP or a user) in one Redis key:

    ratelimit:<scope>:<window seconds>:<subject>
    ratelimit:group:login:60:ip:198.51.100.7     a `rate_limited("login")` group, per client IP
    ratelimit:group:orders:60:user:42            a `rate_limited("orders", per="user")` group, per user
    ratelimit:api:anon:60:ip:198.51.100.7        the API budget of an anonymous client
    ratelimit:api:user:60:user:42                the API budget of a signed-in user

The window starts with the subject's first counted request: `SET key 0 PX window NX`
creates the key with its expiry, `INCR` counts (atomic, so a concurrent burst lets exactly
`limit` requests through, where a get-then-set lets a burst pass), and `PTTL` tells when the
window resets. All of one request's limits go to Redis in one MULTI/EXEC pipeline: one
round trip, whether it is the API budget alone or the API budget plus an endpoint's group.

Two ways in:
- `rate_limited(group)` on a view: only POSTs count, per client IP, against
  `settings.RATE_LIMITS[group]`; `rate_limited(group, per="user")` counts per signed-in user
  instead (order placement: one budget per trader whether the orders come from the trade ticket,
  a JWT script or an API key, from one address or many; a visitor not signed in is counted per
  IP). On a plain Django view it counts at once. On a DRF view (via
  `method_decorator(..., name="dispatch")`) it only registers the group on the request
  (`request.rate_limit_groups`), and `cryptovault.api.throttling.RateLimitThrottle` counts it
  in the same round trip as the API budget.
- The throttle (DEFAULT_THROTTLE_CLASSES): every API request, per user once signed in and per
  client IP otherwise, at REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"/"anon"].

Where the client stands (the most constraining limit) is kept in `request.rate_limit` and sent as
X-RateLimit-Limit/-Remaining/-Reset/-Policy: by the decorator on pages, by
`ApiHeadersMiddleware` on API answers. A refused request gets a 429 with Retry-After.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial, wraps
from typing import Any, Literal

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from rest_framework.settings import api_settings

from cryptovault.clientip import client_ip

KEY_PREFIX = "ratelimit:"
TOO_MANY_ATTEMPTS = "Too many attempts from your network. Wait a minute and try again."

Per = Literal["ip", "user"]

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(?P<count>\d+)\s*/\s*(?P<multiplier>\d*)\s*(?P<unit>[smhd])[a-z]*\s*$")


@dataclass(frozen=True)
class Rate:
    """`limit` requests per window of `seconds`."""

    limit: int
    seconds: int


@lru_cache(maxsize=64)
def rate_parse(text: str) -> Rate:
    """Read "5/m", "60/min", "10/5m", "100/h" or "1000/day": the forms the settings already hold
    (DRF's throttle rates and the groups once counted by django-ratelimit)."""
    match = _RATE.match(text)
    if match is None or int(match["count"]) < 1:
        raise ImproperlyConfigured(f"Rate limit {text!r} is not of the form N/s, N/m, N/h or N/d")
    return Rate(limit=int(match["count"]), seconds=int(match["multiplier"] or 1) * _UNIT_SECONDS[match["unit"]])


@dataclass(frozen=True)
class Limit:
    """One counter: `rate` for `subject` within `scope`."""

    scope: str  # "group:<name>", "api:anon", "api:user"
    subject: str  # "ip:<client ip>" or "user:<pk>"
    rate: Rate

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.scope}:{self.rate.seconds}:{self.subject}"


def group_limit(group: str, ip: str, *, per: Per = "ip", user: Any = None) -> Limit:
    """The `rate_limited(group)` limit for one client IP, or for one user with `per="user"` (page
    and API share it). A per-user group falls back to the IP for a caller not signed in."""
    signed_in = per == "user" and user is not None and user.is_authenticated
    subject = f"user:{user.pk}" if signed_in else f"ip:{ip}"
    return Limit(scope=f"group:{group}", subject=subject, rate=rate_parse(settings.RATE_LIMITS[group]))


def _window_text(seconds: int) -> str:
    named = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
    return named.get(seconds, f"{seconds} seconds")


def too_many_message(limit: Limit, state: RateLimitState) -> str:
    """What a refused client reads: the network's words for a per-IP group, the numbers for a user's."""
    if not limit.subject.startswith("user:"):
        return TOO_MANY_ATTEMPTS
    return (
        f"Too many requests of this kind from your account: at most {limit.rate.limit} per "
        f"{_window_text(limit.rate.seconds)}. Try again in {state.reset_seconds} seconds."
    )


def api_limit(user: Any, ip: str) -> Limit | None:
    """The API budget: per user once signed in, per client IP otherwise; None when switched off."""
    rates = api_settings.DEFAULT_THROTTLE_RATES
    if user is not None and user.is_authenticated:
        rate, scope, subject = rates.get("user"), "api:user", f"user:{user.pk}"
    else:
        rate, scope, subject = rates.get("anon"), "api:anon", f"ip:{ip}"
    return Limit(scope=scope, subject=subject, rate=rate_parse(rate)) if rate else None


@dataclass(frozen=True)
class RateLimitState:
    """Where a client stands against one limit, this request included."""

    limit: int
    count: int  # requests in this window, this one and refused ones included
    window_seconds: int
    reset_seconds: int  # until the window ends and the count starts again

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def policy(self) -> str:
        # The IETF RateLimit-Policy form: quota;w=window-in-seconds
        return f"{self.limit};w={self.window_seconds}"

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
            "X-RateLimit-Policy": self.policy,
        }


@lru_cache(maxsize=4)
def _client_for(url: str, connect_timeout: float | None, timeout: float | None) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=timeout)


def redis_client() -> redis.Redis:
    """One client (and connection pool) per process on the cache's Redis, with the cache's timeouts."""
    options = settings.CACHES["default"].get("OPTIONS", {})
    return _client_for(settings.CACHE_URL, options.get("socket_connect_timeout"), options.get("socket_timeout"))


def count_request(limits: Sequence[Limit]) -> list[RateLimitState]:
    """Count this request against every limit, in one round trip to Redis."""
    if not limits:
        return []
    client = redis_client()
    pipeline = client.pipeline(transaction=True)
    for limit in limits:
        window_ms = limit.rate.seconds * 1000
        pipeline.set(limit.key, 0, px=window_ms, nx=True)  # a new window: the key and its expiry at once
        pipeline.incr(limit.key)
        pipeline.pttl(limit.key)
    replies = pipeline.execute()
    states = []
    for index, limit in enumerate(limits):
        count, ttl_ms = int(replies[3 * index + 1]), int(replies[3 * index + 2])
        if ttl_ms < 0:
            # The key expired between SET NX and INCR (a server that does not freeze time inside
            # MULTI), so INCR made one without expiry: give it one rather than count forever.
            ttl_ms = limit.rate.seconds * 1000
            client.pexpire(limit.key, ttl_ms)
        states.append(
            RateLimitState(
                limit=limit.rate.limit,
                count=count,
                window_seconds=limit.rate.seconds,
                reset_seconds=max(1, -(-ttl_ms // 1000)),
            )
        )
    return states


def rate_limit_record(request: HttpRequest, states: Iterable[RateLimitState]) -> RateLimitState | None:
    """Keep the most telling state on the request: a refused limit, else the one with least left."""
    candidates = [*states]
    current = getattr(request, "rate_limit", None)
    if current is not None:
        candidates.append(current)
    if not candidates:
        return None
    request.rate_limit = min(candidates, key=lambda s: (not s.exceeded, s.remaining, -s.reset_seconds))
    return request.rate_limit


def rate_limit_groups(request: HttpRequest) -> tuple[tuple[str, Per], ...]:
    """The groups `rate_limited` registered on this request for the API throttle to count, each with
    whom it counts (`"ip"` or `"user"`)."""
    return getattr(request, "rate_limit_groups", ())


def too_many_attempts(request: HttpRequest, state: RateLimitState, message: str = TOO_MANY_ATTEMPTS) -> HttpResponse:
    """The answer to a refused POST of a plain Django view: JSON under /api/, else the error page."""
    # Imported here: DRF imports the throttle (and so this module) while rest_framework.views,
    # which cryptovault.api.errors needs, is still loading.
    from cryptovault.api.errors import error_body

    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(detail=message, code="rate_limited"), status=429)
    else:
        response = render(
            request,
            "error.html",
            {"status": 429, "title": "Too many attempts", "message": message},
            status=429,
        )
    response["Retry-After"] = str(state.reset_seconds)
    return response


def _throttle_counts_groups(view: Callable[..., Any]) -> bool:
    """Is `view` a DRF view whose throttles count the registered groups?

    `method_decorator(..., name="dispatch")` hands us `partial(<bound dispatch>)`; decorating
    `SomeApiView.as_view()` hands us a function carrying `.cls`. Either way the throttle runs
    inside, after authentication, and counts the group with the API budget. A DRF view without
    that throttle (its own `throttle_classes`) is counted here, like a plain view.
    """
    # Duck-typed: importing APIView here would be circular (DRF imports the throttle, and so
    # this module, while rest_framework.views loads).
    target = view.func if isinstance(view, partial) else view
    drf_view = getattr(target, "__self__", None) or getattr(target, "cls", None)
    throttle_classes: Iterable[type] = getattr(drf_view, "throttle_classes", ())
    return any(getattr(throttle, "counts_rate_limit_groups", False) for throttle in throttle_classes)


def rate_limited(
    group: str, *, per: Per = "ip"
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Limit POSTs to the decorated view by `settings.RATE_LIMITS[group]` per client IP, or per
    signed-in user with `per="user"`.

    Pages: `@rate_limited("login")`; DRF views: `@method_decorator(rate_limited("login"), name="dispatch")`.
    Order placement, page and API alike: `rate_limited("orders", per="user")`.
    """
    if per not in ("ip", "user"):
        raise ImproperlyConfigured(f"rate_limited({group!r}, per={per!r}): per is 'ip' or 'user'")

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            if _throttle_counts_groups(view):
                request.rate_limit_groups = (*rate_limit_groups(request), (group, per))
                return view(request, *args, **kwargs)
            limit = group_limit(group, client_ip(request), per=per, user=getattr(request, "user", None))
            (state,) = count_request([limit])
            shown = rate_limit_record(request, [state]) or state
            response: HttpResponseBase
            if state.exceeded:
                response = too_many_attempts(request, state, too_many_message(limit, state))
            else:
                try:
                    response = view(request, *args, **kwargs)
                except Exception as exc:  # a 404 or 403 from the view still says where the client stands
                    response = response_for_exception(request, exc)
            for header, value in shown.headers().items():
                response[header] = value
            return response

        return wrapped

    return decorator
