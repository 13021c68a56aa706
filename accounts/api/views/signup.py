"""Sign-up and email verification over the API.

Sign-up never says whether an address already has an account: both answer 201, and the
owner of an existing address gets an email saying someone tried.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.api.serializers import SignupSerializer, VerifyEmailSerializer
from accounts.api.views.common import TAGS, AccountApiView, AnonymousApiView
from accounts.services.signup import account_sign_up
from accounts.services.verification import email_verification_send, email_verify_by_code, email_verify_by_key
from cryptovault.api.serializers import DetailSerializer
from cryptovault.ratelimits import rate_limited

SIGNED_UP = (
    "Check your email: we sent a 6-digit code and a link to verify the address. "
    "You can sign in meanwhile; trading and exchange connections wait for the verification."
)


@method_decorator(rate_limited("signup"), name="dispatch")
class SignupView(AnonymousApiView):
    input_serializer = SignupSerializer

    @extend_schema(
        summary="Sign up",
        description="Creates an unverified account and emails a verification code and link. "
        "An address that already has an account answers the same (its owner is told by email).",
        tags=TAGS,
        request=SignupSerializer,
        responses={201: DetailSerializer},
    )
    def post(self, request):
        account_sign_up(actor=self.actor, **self.parse())
        return Response({"detail": SIGNED_UP}, status=status.HTTP_201_CREATED)


@method_decorator(rate_limited("verify_email"), name="dispatch")
class VerifyEmailView(AccountApiView):
    permission_classes = [AllowAny]
    input_serializer = VerifyEmailSerializer

    @extend_schema(
        summary="Verify the email address",
        description="Either `code` (the 6 digits from the email; signed in) or `key` (from the email's link; "
        "no sign-in needed).",
        tags=TAGS,
        request=VerifyEmailSerializer,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        data = self.parse()
        if data.get("key"):
            email_verify_by_key(actor=self.actor, key=data["key"])
        elif not request.user.is_authenticated:
            raise NotAuthenticated("Sign in to verify with the code, or send the key from the email's link.")
        elif request.user.email_verified:
            return Response({"detail": "Your email address is already verified."})
        else:
            email_verify_by_code(actor=self.actor, user=request.user, code=data["code"])
        return Response({"detail": "Your email address is verified."})


@method_decorator(rate_limited("resend_verification"), name="dispatch")
class ResendVerificationView(AccountApiView):
    @extend_schema(
        summary="Send the verification email again",
        description="A new code (the earlier ones stop working) and a new link.",
        tags=TAGS,
        request=None,
        responses={200: DetailSerializer},
    )
    def post(self, request):
        if request.user.email_verified:
            return Response({"detail": "Your email address is already verified."})
        email_verification_send(actor=self.actor, user=request.user)
        return Response({"detail": f"We sent a new code and link to {request.user.email}."})
