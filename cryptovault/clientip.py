"""The client's IP address: one rule for lockout, rate limits, audit records and sessions.

REMOTE_ADDR is the peer that opened the connection, and it is the answer unless
TRUSTED_PROXY_COUNT proxies of our own sit in front. Then the address is read from
X-Forwarded-For counted from the right, where our own proxies appended it: whatever a
client writes at the left end of the header is never believed.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - an address, not a bind
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote_addr
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote_addr
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def client_ip_for_axes(request: HttpRequest, *args) -> str:
    """django-axes calls its AXES_CLIENT_IP_CALLABLE with the request only (and older versions with more)."""
    return client_ip(request)
