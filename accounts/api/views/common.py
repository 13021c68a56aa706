"""What the account API views share: errors mapped to 4xx, API keys kept out, JWT helpers."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.api.serializers import ErrorSerializer
from accounts.gates import require_sensitive_action
from accounts.models import User
from accounts.permissions import ApiKeyScopes
from accounts.services.auth import jwt_pair_for
from accounts.services.second_factor import two_factor_enabled

TAGS = ["auth"]


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error answers an endpoint documents, all in the one error shape."""
    described = {
        400: "Invalid input: per-field messages in `errors`.",
        401: "Not signed in, or wrong credentials.",
        403: "Not allowed: see `code` (email_not_verified, two_factor_required, step_up_required, ...).",
        404: "Not found (or not yours).",
        429: "Too many attempts: wait for Retry-After seconds.",
        503: "The text message could not be sent.",
    }
    return {status: OpenApiResponse(ErrorSerializer, description=described[status]) for status in statuses}


def _as_drf_error(exc: Exception) -> Exception:
    """A model's full_clean() and a missing row must answer 400 and 404, never 500."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if name == "__all__" else name): messages
                for name, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, ObjectDoesNotExist):
        return exceptions.NotFound()
    return exc


class AccountApiMixin:
    """Views that manage the account itself: no API key may use them (`api_key_scopes = {}`)."""

    api_key_scopes: dict[str, str] = {}

    def handle_exception(self, exc):
        return super().handle_exception(_as_drf_error(exc))


class AccountApiView(AccountApiMixin, APIView):
    pass


class AnonymousApiView(AccountApiView):
    """Endpoints for people not signed in (sign-up, tokens, password reset).

    No authentication runs, so a stale token a client still sends cannot get in the way.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny, ApiKeyScopes]


def uses_jwt(request) -> bool:
    return isinstance(request.successful_authenticator, JWTAuthentication)


class SessionlessRequest:
    """The request as the services see it, minus its session.

    second_factor_verify stamps a proof on `request.session` when there is one. A token
    client must not leave that stamp in whatever cookie session it also carries: the proof
    belongs in the token (`otp_at`). Everything else (address, browser, user) still reaches
    the audit records.
    """

    def __init__(self, request) -> None:
        self._wrapped = request

    def __getattr__(self, name: str):
        if name == "session":
            raise AttributeError(name)
        return getattr(self._wrapped, name)


def service_request(request):
    """What to hand the services: the request itself for a browser session, else sessionless."""
    if request.user.is_authenticated and request.auth is None:  # a session (API keys and JWTs set auth)
        return request
    return SessionlessRequest(request)


def tokens_after_change(request, user: User, *, second_factor_used: bool) -> dict | None:
    """A credential change blacklists every refresh token; a JWT client gets a new pair."""
    if not uses_jwt(request):
        return None
    return jwt_pair_for(request=request, user=user, second_factor_used=second_factor_used)


def step_up_if_two_factor(request, *, otp_code: str = "", challenge_id: str = "") -> None:
    """Changing second factors while 2FA is on needs a fresh proof; with it off, nothing to prove."""
    if two_factor_enabled(request.user):
        require_sensitive_action(request, otp_code=otp_code, challenge_id=challenge_id, needs_verified_email=False)
