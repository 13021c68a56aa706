"""Forgotten, reset and changed passwords.

Reset links are allauth's (`<uid>-<token>` with allauth's token generator), so the link in
the email works on the page and its two halves work here. A token lives PASSWORD_RESET_TIMEOUT
and dies with the password it was made for, so it works once. Every new password goes through
accounts.services.passwords, which ends the account's other sessions and tokens.
"""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm, UserTokenForm
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api.serializers import (
    ChangePasswordSerializer,
    ForgotPasswordSerializer,
    ResetPasswordSerializer,
    ResetTokenSerializer,
    ResetTokenValidSerializer,
    TokensAfterChangeSerializer,
)
from accounts.api.views.common import TAGS, AccountApiView, AnonymousApiView, after_credentials_changed
from accounts.durations import password_reset_link_lifetime
from accounts.models import User
from accounts.services.passwords import password_change, password_reset
from cryptovault.api.serializers import DetailSerializer
from cryptovault.ratelimits import rate_limited


def _reset_user(uid: str, token: str) -> User:
    """The account the reset link was made for, or a 400 on `token`."""
    form = UserTokenForm(data={"uidb36": uid, "key": token})
    if not form.is_valid():
        messages = form.non_field_errors() or ["The password reset link is invalid."]
        raise serializers.ValidationError({"token": [*messages, "Ask for a new link."]})
    return form.reset_user


@method_decorator(rate_limited("forgot_password"), name="dispatch")
class ForgotPasswordView(AnonymousApiView):
    input_serializer = ForgotPasswordSerializer

    @extend_schema(
        summary="Forgot password: email a reset link",
        description="Always the same answer, whether or not the address has an account.",
        tags=TAGS,
        request=ForgotPasswordSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        form = ResetPasswordForm(data={"email": self.parse()["email"]})
        if form.is_valid():
            form.save(request._request)
        return Response(
            {
                "detail": "If an account uses that address, we emailed it a link to choose a new password. "
                f"The link works for {password_reset_link_lifetime()}."
            }
        )


@method_decorator(rate_limited("reset_password"), name="dispatch")
class ResetTokenValidateView(AnonymousApiView):
    input_serializer = ResetTokenSerializer

    @extend_schema(
        summary="Check a password reset link",
        description="Lets an app say 'this link has expired' before asking for the new password.",
        tags=TAGS,
        request=ResetTokenSerializer,
        responses={200: ResetTokenValidSerializer},
    )
    def post(self, request):
        _reset_user(**self.parse())
        return Response({"valid": True})


@method_decorator(rate_limited("reset_password"), name="dispatch")
class ResetPasswordView(AnonymousApiView):
    input_serializer = ResetPasswordSerializer

    @extend_schema(
        summary="Set a new password from a reset link",
        description="Signs the account out everywhere; the link stops working.",
        tags=TAGS,
        request=ResetPasswordSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        data = self.parse()
        password_reset(actor=self.actor, user=_reset_user(data["uid"], data["token"]), password=data["password"])
        return Response({"detail": "Your password is changed. Sign in with the new one."})


@method_decorator(rate_limited("login"), name="dispatch")  # checks the password: guarded like sign-in
class ChangePasswordView(AccountApiView):
    input_serializer = ChangePasswordSerializer

    @extend_schema(
        summary="Change the password",
        description="Other sessions and refresh tokens end; this session stays signed in "
        "(a JWT client gets a new token pair in `tokens`).",
        tags=TAGS,
        request=ChangePasswordSerializer,
        responses={200: TokensAfterChangeSerializer},
    )
    def post(self, request):
        password_change(actor=self.actor, user=request.user, new_password=self.parse()["new_password"])
        return Response(
            {
                "detail": "Your password is changed. Other sessions were signed out.",
                "tokens": after_credentials_changed(request, self.actor, request.user, second_factor_used=False),
            }
        )
