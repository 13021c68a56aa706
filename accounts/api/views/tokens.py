"""JWT sign-in: a password, then the second factor when 2FA is on; refresh and sign-out.

The access token lives JWT_ACCESS_MINUTES; a refresh token is single-use (rotation) and sign-out
blacklists it. django-axes counts wrong passwords here exactly as on the sign-in page.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer
from rest_framework_simplejwt.views import TokenRefreshView as SimpleJwtTokenRefreshView

from accounts.api.serializers import (
    ChallengeSerializer,
    CredentialsSerializer,
    RefreshSerializer,
    SecondFactorRequiredSerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
)
from accounts.api.views.common import TAGS, AnonymousApiView
from accounts.authentication import password_check, token_sign_in
from accounts.errors import SecondFactorRequired
from accounts.models import User
from accounts.selectors import two_factor_summary
from accounts.services.second_factor import sms_code_send
from accounts.services.sessions import refresh_token_revoked
from cryptovault.api.errors import error_body
from cryptovault.api.schema import error_response, error_responses
from cryptovault.api.serializers import DetailSerializer
from cryptovault.ratelimits import rate_limited


def _second_factor_required(user: User) -> Response:
    """401 otp_required, naming the factors this account can answer with."""
    summary = two_factor_summary(user)
    methods = [
        method
        for method, available in (
            ("totp", summary["totp"]),
            ("sms", bool(summary["sms"])),
            ("recovery_code", summary["recovery_codes_remaining"] > 0),
        )
        if available
    ]
    body = error_body(detail=SecondFactorRequired.default_message, code=SecondFactorRequired.code)
    return Response({**body, "methods": methods}, status=status.HTTP_401_UNAUTHORIZED)


@method_decorator(rate_limited("login"), name="dispatch")
class TokenObtainView(AnonymousApiView):
    input_serializer = TokenObtainSerializer

    @extend_schema(
        summary="Sign in: get an access and a refresh token",
        description="With two-factor authentication on, the first try without `otp_code` answers 401 "
        "`otp_required` with the usable `methods`; send the code (and the `challenge_id` for a texted code).",
        tags=TAGS,
        request=TokenObtainSerializer,
        responses={
            200: TokenPairSerializer,
            401: OpenApiResponse(
                SecondFactorRequiredSerializer,
                description="Wrong credentials (`invalid_credentials`), or a second factor is needed "
                "(`otp_required`, with the usable `methods`).",
            ),
        },
    )
    def post(self, request):
        data = self.parse()
        user, tokens = token_sign_in(request._request, actor=self.actor, **data)
        if tokens is None:
            return _second_factor_required(user)
        return Response(tokens)


@method_decorator(rate_limited("login"), name="dispatch")
class TokenSmsView(AnonymousApiView):
    input_serializer = CredentialsSerializer

    @extend_schema(
        summary="Sign in: text me a code",
        description="Checks the password, then texts a sign-in code to the account's verified phone. "
        "Send the code with the `challenge_id` to token/.",
        tags=TAGS,
        request=CredentialsSerializer,
        responses={
            200: ChallengeSerializer,
            401: error_response(401, "The email address or password is not right."),
            **error_responses(503),
        },
    )
    def post(self, request):
        user = password_check(request._request, **self.parse())
        return Response({"challenge_id": sms_code_send(user=user, purpose="login")})


@extend_schema_view(
    post=extend_schema(
        summary="Refresh: a new access token (and a new refresh token)",
        description="The refresh token sent is used up: keep the new one.",
        tags=TAGS,
    )
)
class TokenRefreshView(SimpleJwtTokenRefreshView):
    api_key_scopes: dict[str, str] = {}


class LogoutView(AnonymousApiView):
    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'  # a bad refresh token is a 401, as on token/refresh/

    @extend_schema(
        summary="Sign out a token client",
        description="Blacklists the refresh token; the access token expires within minutes.",
        tags=TAGS,
        request=RefreshSerializer,
        responses={200: DetailSerializer, 401: error_response(401, "The refresh token is not valid or was used.")},
    )
    def post(self, request):
        serializer = TokenBlacklistSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        refresh_token_revoked(actor=self.actor, refresh=request.data["refresh"])
        return Response({"detail": "Signed out: the refresh token no longer works."})
