"""How API requests prove who they are: a personal API key, a JWT (simplejwt's
`Authorization: Bearer`), or a browser session.

A session counts only once the second factor was given at sign-in (django-otp's
`is_verified`), so a half-finished sign-in can never reach the API.
"""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.errors import AccountLocked, InvalidCredentials
from accounts.models import User
from accounts.services.api_keys import api_key_authenticate
from cryptovault.clientip import client_ip


def password_check(request: HttpRequest, *, email: str, password: str) -> User:
    """The account behind email and password, for the token endpoints.

    It needs the Django request, not an actor: django-axes counts failures and refuses a
    locked-out client by address inside Django's authenticate(), and marks the request
    (`axes_locked_out`) for its middleware. The sign-in page reaches the same backend
    through allauth.
    """
    user = authenticate(request, email=email, password=password)
    if getattr(request, "axes_locked_out", False):
        raise AccountLocked()
    if user is None:
        raise InvalidCredentials(field="password")
    # A token sign-in is not a session login (no user_logged_in signal), so axes' reset on
    # success is done here: earlier failures no longer count toward a lockout.
    axes_reset(ip=client_ip(request), username=user.email)
    return user


def user_may_authenticate(user) -> bool:
    return user is not None and user.is_active


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key cvk_…` (or the X-API-Key header)."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        raw_key = ""
        if header.startswith(self.keyword + " "):
            raw_key = header[len(self.keyword) + 1 :]
        elif request.META.get("HTTP_X_API_KEY"):
            raw_key = request.META["HTTP_X_API_KEY"]
        if not raw_key:
            return None
        ip = client_ip(request._request)
        key = api_key_authenticate(raw_key=raw_key, ip=ip)
        if key is None:
            raise exceptions.AuthenticationFailed(_("This API key is not valid, has expired or was revoked."))
        if not key.allows_ip(ip):
            raise exceptions.PermissionDenied(_("This API key may not be used from %(ip)s.") % {"ip": ip})
        return key.user, key

    def authenticate_header(self, request) -> str:
        return self.keyword


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, auth = result
        from accounts.selectors import two_factor_enabled

        # is_verified() is already known (OTPMiddleware); only unverified sessions pay for the check.
        if not user.is_verified() and two_factor_enabled(user):
            return None
        return user, auth


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key cvk_…`: a personal API key; its scopes limit what it may do.",
        }


class VerifiedSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
