"""Websocket handshakes only from this site's own pages.

Browsers do not apply the same-origin policy to websockets: any page may open one to us, carrying
the user's session cookie. So the handshake's `Origin` must be exactly the scheme, host and port
the request came to (the `Host` header, itself one of ALLOWED_HOSTS), or one of
CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compares host names only: a page on
another port or scheme of the same host (cookies do not care about ports) could read a signed-in
user's /ws/events. The scheme is the connection's own (ws or wss), or X-Forwarded-Proto exactly when
HTTP trusts it (SECURE_PROXY_SSL_HEADER, set behind a TLS proxy).
"""

from __future__ import annotations

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin1")
    return None


def origin_allowed(scope: dict) -> bool:
    origin = _header(scope, b"origin")
    if not origin:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    host = _header(scope, b"host") or ""
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    forwarded = _header(scope, b"x-forwarded-proto")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and forwarded:  # trusted exactly when HTTP trusts it
        scheme = forwarded.split(",")[0].strip().lower()
    return origin.lower() == f"{scheme}://{host}".lower()


class SameOriginValidator:
    """ASGI middleware: refuse (HTTP 403 at the handshake) a websocket from any other origin."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
