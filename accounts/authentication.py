"""How API requests prove who they are: a personal API key, a JWT (simplejwt's
`Authorization: Bearer`), or a browser session.

An access token dies the moment the account's second factors change: tokens carry the account's
"auth epoch" (`ae`, bumped by accounts.services.sessions.credentials_changed) and one issued
before the last change is refused. The check reads the user row simplejwt loads anyway: no
extra query. (A password change already kills them: CHECK_REVOKE_TOKEN.)

A session counts only once the second factor was given at sign-in (django-otp's
`is_verified`), so a half-finished sign-in can never reach the API.
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt.tokens import Token

from accounts.errors import AccountLocked, InvalidCode, InvalidCredentials
from accounts.models import User
from accounts.services.api_keys import api_key_authenticate
from accounts.services.auth import AUTH_EPOCH_CLAIM, jwt_sign_in
from cryptovault.actor import Actor
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
    # Earlier failures are forgotten only once the whole sign-in succeeded (`token_sign_in`):
    # a right password must not wipe the count of wrong second-factor codes.
    return user


def token_sign_in(
    request: HttpRequest, *, actor: Actor, email: str, password: str, otp_code: str, challenge_id: str | None
) -> tuple[User, dict | None]:
    """The token endpoint's sign-in: the password, then the second factor when 2FA is on.

    Returns the user and their tokens, or None for the tokens while a second factor is owed. A
    wrong code counts toward the lockout like a wrong password (AccountLocked at the limit); a
    complete sign-in clears the count, as a page sign-in does on `user_logged_in`.
    """
    # Imported here: accounts.lockout renders the API's error body, and DRF imports this module
    # (DEFAULT_AUTHENTICATION_CLASSES) while its views, which that needs, are still loading.
    from accounts.lockout import sign_in_code_failed, sign_in_succeeded

    user = password_check(request, email=email, password=password)
    try:
        tokens = jwt_sign_in(actor=actor, user=user, otp_code=otp_code, challenge_id=challenge_id)
    except InvalidCode:
        if sign_in_code_failed(request, email=user.email):
            raise AccountLocked() from None
        raise
    if tokens is not None:
        sign_in_succeeded(request, email=user.email)
    return user, tokens


def user_may_authenticate(user) -> bool:
    return user is not None and user.is_active


def token_predates_credentials(token: Token, user: User) -> bool:
    """Was `token` issued before the user's second factors last changed?

    Our tokens carry the epoch they were issued under (`ae`); one made elsewhere (simplejwt's
    `for_user` in a script) is judged by its issue time, to the second.
    """
    if not user.auth_epoch:
        return False
    if AUTH_EPOCH_CLAIM in token:
        return int(token[AUTH_EPOCH_CLAIM]) < user.auth_epoch
    return int(token.get("iat", 0)) < user.auth_epoch // 1_000_000


class JWTAuthentication(simplejwt_authentication.JWTAuthentication):
    """simplejwt's bearer tokens, refused once the account's second factors changed."""

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        user = cast(User, super().get_user(validated_token))
        if token_predates_credentials(validated_token, user):
            raise exceptions.AuthenticationFailed(
                _("The account's second factors changed since this token was issued: sign in again."),
                code="credentials_changed",
            )
        return user


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


class JWTAuthenticationScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.JWTAuthentication"


class VerifiedSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
