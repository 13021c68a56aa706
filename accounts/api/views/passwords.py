"""Forgotten, reset and changed passwords.

Reset links are allauth's (`<uid>-<token>` with allauth's token generator), so the link in
the email works on the page and its two halves work here. A token lives PASSWORD_RESET_TIMEOUT
(1 hour) and dies with the password it was made for, so it works once. Every new password
goes through allauth's adapter, which ends the account's other sessions and tokens.
"""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm, UserTokenForm
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.serializers import (
    ChangePasswordSerializer,
    DetailSerializer,
    ForgotPasswordSerializer,
    ResetPasswordSerializer,
    ResetTokenSerializer,
    ResetTokenValidSerializer,
    TokensAfterChangeSerializer,
)
from accounts.api.views.common import TAGS, AccountApiView, AnonymousApiView, errors, tokens_after_change, uses_jwt
from accounts.models import User
from accounts.permissions import ApiKeyScopes
from accounts.ratelimits import rate_limited
from accounts.services.passwords import password_change, password_reset

FORGOT_SENT = (
    "If an account uses that address, we emailed it a link to choose a new password. The link works for one hour."
)


def _reset_user(uid: str, token: str) -> User:
    """The account the reset link was made for, or a 400 on `token`."""
    form = UserTokenForm(data={"uidb36": uid, "key": token})
    if not form.is_valid():
        messages = form.non_field_errors() or ["The password reset link is invalid."]
        raise serializers.ValidationError({"token": [*messages, "Ask for a new link."]})
    return form.reset_user


@method_decorator(rate_limited("forgot_password"), name="dispatch")
class ForgotPasswordView(AnonymousApiView):
    @extend_schema(
        summary="Forgot password: email a reset link",
        description="Always the same answer, whether or not the address has an account.",
        tags=TAGS,
        request=ForgotPasswordSerializer,
        responses={200: DetailSerializer, **errors(400, 429)},
    )
    def post(self, request):
        serializer = ForgotPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        form = ResetPasswordForm(data={"email": serializer.validated_data["email"]})
        if form.is_valid():
            form.save(request._request)
        return Response({"detail": FORGOT_SENT})


@method_decorator(rate_limited("reset_password"), name="dispatch")
class ResetTokenValidateView(AnonymousApiView):
    @extend_schema(
        summary="Check a password reset link",
        description="Lets an app say 'this link has expired' before asking for the new password.",
        tags=TAGS,
        request=ResetTokenSerializer,
        responses={200: ResetTokenValidSerializer, **errors(400, 429)},
    )
    def post(self, request):
        serializer = ResetTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        _reset_user(**serializer.validated_data)
        return Response({"valid": True})


@method_decorator(rate_limited("reset_password"), name="dispatch")
class ResetPasswordView(AnonymousApiView):
    @extend_schema(
        summary="Set a new password from a reset link",
        description="Signs the account out everywhere; the link stops working.",
        tags=TAGS,
        request=ResetPasswordSerializer,
        responses={200: DetailSerializer, **errors(400, 429)},
    )
    def post(self, request):
        serializer = ResetPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = _reset_user(data["uid"], data["token"])
        password_reset(request=request._request, user=user, password=data["password"])
        return Response({"detail": "Your password is changed. Sign in with the new one."})


@method_decorator(rate_limited("login"), name="dispatch")  # checks the password: guarded like sign-in
class ChangePasswordView(AccountApiView):
    permission_classes = [IsAuthenticated, ApiKeyScopes]

    @extend_schema(
        summary="Change the password",
        description="Other sessions and refresh tokens end; this session stays signed in "
        "(a JWT client gets a new token pair in `tokens`).",
        tags=TAGS,
        request=ChangePasswordSerializer,
        responses={200: TokensAfterChangeSerializer, **errors(400, 401)},
    )
    def post(self, request):
        serializer = ChangePasswordSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = request.user
        password_change(
            request=request._request,
            user=user,
            new_password=serializer.validated_data["new_password"],
            keep_session=not uses_jwt(request),  # a JWT client gets a new token pair instead
        )
        return Response(
            {
                "detail": "Your password is changed. Other sessions were signed out.",
                "tokens": tokens_after_change(request, user, second_factor_used=False),
            }
        )
