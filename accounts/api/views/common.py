"""What the account API views share: no API key may manage an account, and what a session or
token client keeps after a second factor or a credential change."""

from __future__ import annotations

from allauth.account.signals import password_changed
from django.contrib.auth import update_session_auth_hash
from django_otp.models import Device
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import User
from accounts.services.auth import jwt_pair_for
from accounts.session_proof import session_stamp_second_factor
from cryptovault.actor import Actor
from cryptovault.api.views import AnonymousServiceApiView, ServiceApiView

TAGS = ["auth"]


class AccountApiView(ServiceApiView):
    """Views that manage the account itself: no API key may use them (`api_key_scopes = {}`)."""

    api_key_scopes: dict[str, str] = {}


class AnonymousApiView(AnonymousServiceApiView):
    api_key_scopes: dict[str, str] = {}


def uses_jwt(request: Request) -> bool:
    return isinstance(request.successful_authenticator, JWTAuthentication)


def uses_session(request: Request) -> bool:
    return request.user.is_authenticated and request.auth is None  # API keys and JWTs set `auth`


def keep_proof(request: Request, device: Device | None) -> None:
    """A session client keeps the second factor it just proved; a token client's is in its token."""
    if device is not None and uses_session(request):
        session_stamp_second_factor(request._request, device)


def after_credentials_changed(request: Request, actor: Actor, user: User, *, second_factor_used: bool) -> dict | None:
    """Every other session and refresh token ended: a session client stays signed in (its session
    hash follows the new password), a JWT client gets a new token pair."""
    if uses_session(request):
        update_session_auth_hash(request._request, user)
        # allauth's session list follows the session's new key, as after the page's change.
        password_changed.send(sender=User, request=request._request, user=user)
        return None
    if uses_jwt(request):
        return jwt_pair_for(actor=actor, user=user, second_factor_used=second_factor_used)
    return None
