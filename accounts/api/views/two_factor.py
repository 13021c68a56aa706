"""Two-factor authentication over the API: authenticator app, phone, recovery codes, step-up.

While 2FA is on, changing it needs a fresh proof: a step-up within the last minutes (the
session's stamp, or `otp_at` in the access token from 2fa/step-up/) or `otp_code` sent along.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.serializers import (
    ChallengeSerializer,
    OtpSerializer,
    PhoneAddSerializer,
    PhoneConfirmSerializer,
    RecoveryCodesSerializer,
    SmsCodeRequestSerializer,
    StepUpDoneSerializer,
    StepUpSerializer,
    TokensAfterChangeSerializer,
    TotpBeginSerializer,
    TotpConfirmSerializer,
    TwoFactorStateSerializer,
)
from accounts.api.views.common import (
    TAGS,
    AccountApiView,
    errors,
    service_request,
    step_up_if_two_factor,
    tokens_after_change,
    uses_jwt,
)
from accounts.errors import TwoFactorSetupRequired
from accounts.gates import require_sensitive_action
from accounts.permissions import ApiKeyScopes
from accounts.qr import qr_svg
from accounts.ratelimits import rate_limited
from accounts.services.auth import jwt_step_up_access
from accounts.services.second_factor import (
    recovery_codes_regenerate,
    second_factor_verify,
    sms_code_send,
    sms_phone_add,
    sms_phone_confirm,
    totp_begin,
    totp_confirm,
    totp_pending,
    two_factor_disable,
    two_factor_enabled,
    two_factor_summary,
)
from cryptovault.errors import DomainError


class TwoFactorApiView(AccountApiView):
    permission_classes = [IsAuthenticated, ApiKeyScopes]


def _otp(data: dict) -> dict:
    return {"otp_code": data.get("otp_code") or "", "challenge_id": data.get("challenge_id") or ""}


def _otp_code(serializer) -> dict:
    data = serializer.validated_data
    return {"code": data["otp_code"], "challenge_id": data.get("challenge_id") or None}


class TwoFactorStateView(TwoFactorApiView):
    @extend_schema(summary="Two-factor state", tags=TAGS, responses={200: TwoFactorStateSerializer, **errors(401)})
    def get(self, request):
        user = request.user
        return Response({**two_factor_summary(user), "totp_pending": totp_pending(user=user) is not None})


class TotpBeginView(TwoFactorApiView):
    @extend_schema(
        summary="Authenticator app: start the set-up",
        description="A new secret to scan (QR) or type (manual key). It counts only after totp/confirm/. "
        "With 2FA already on, this needs a fresh proof (`otp_code`, or a step-up).",
        tags=TAGS,
        request=OtpSerializer,
        responses={200: TotpBeginSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = OtpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step_up_if_two_factor(service_request(request), **_otp(serializer.validated_data))
        device = totp_begin(user=request.user)
        return Response(
            {
                "provisioning_uri": device.provisioning_uri,
                "manual_key": device.manual_key,
                "qr_svg": str(qr_svg(device.provisioning_uri, title="QR code for your authenticator app")),
            }
        )


class TotpConfirmView(TwoFactorApiView):
    @extend_schema(
        summary="Authenticator app: confirm with its first code",
        description="Turns the app on. The first time 2FA goes on, the answer carries the recovery codes. "
        "Replacing the app while 2FA is on needs a fresh proof (`otp_code`, or a step-up).",
        tags=TAGS,
        request=TotpConfirmSerializer,
        responses={200: RecoveryCodesSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = TotpConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Replacing the app while 2FA is on is a change of second factor: a fresh proof again,
        # so a pending seed left behind can never be confirmed by whoever holds the session later.
        step_up_if_two_factor(service_request(request), **_otp(serializer.validated_data))
        codes = totp_confirm(
            request=service_request(request), user=request.user, code=serializer.validated_data["code"]
        )
        return Response(
            {"recovery_codes": codes, "tokens": tokens_after_change(request, request.user, second_factor_used=True)}
        )


class RecoveryCodesView(TwoFactorApiView):
    @extend_schema(
        summary="New recovery codes",
        description="Ten new codes, shown once; the old ones stop working. Needs 2FA on and a fresh proof.",
        tags=TAGS,
        request=OtpSerializer,
        responses={200: RecoveryCodesSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = OtpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        require_sensitive_action(
            service_request(request), needs_verified_email=False, **_otp(serializer.validated_data)
        )
        codes = recovery_codes_regenerate(request=service_request(request), user=request.user)
        return Response({"recovery_codes": codes, "tokens": None})


@method_decorator(rate_limited("resend_verification"), name="dispatch")
class PhoneAddView(TwoFactorApiView):
    @extend_schema(
        summary="Phone: text a code to a new number",
        description="The number becomes a second factor once phone/confirm/ gets the code back. "
        "With 2FA already on, this needs a fresh proof (`otp_code`, or a step-up).",
        tags=TAGS,
        request=PhoneAddSerializer,
        responses={200: ChallengeSerializer, **errors(400, 401, 403, 429, 503)},
    )
    def post(self, request):
        serializer = PhoneAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        step_up_if_two_factor(service_request(request), **_otp(serializer.validated_data))
        challenge_id = sms_phone_add(
            request=service_request(request), user=request.user, number=serializer.validated_data["number"]
        )
        return Response({"challenge_id": challenge_id})


class PhoneConfirmView(TwoFactorApiView):
    @extend_schema(
        summary="Phone: confirm with the texted code",
        description="Verifies the phone. If this turned 2FA on, the answer carries new recovery codes.",
        tags=TAGS,
        request=PhoneConfirmSerializer,
        responses={200: RecoveryCodesSerializer, **errors(400, 401)},
    )
    def post(self, request):
        serializer = PhoneConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, acting = request.user, service_request(request)
        # When the phone turned 2FA on, the new recovery codes come back, to be shown once.
        codes = sms_phone_confirm(request=acting, user=user, **serializer.validated_data)
        return Response(
            {"recovery_codes": codes, "tokens": tokens_after_change(request, user, second_factor_used=True)}
        )


@method_decorator(rate_limited("login"), name="dispatch")
class StepUpView(TwoFactorApiView):
    @extend_schema(
        summary="Step up: prove it is you before a sensitive action",
        description="A session is stamped for the next minutes. A JWT client gets `access`, an access token "
        "carrying the proof: use it for the sensitive request.",
        tags=TAGS,
        request=StepUpSerializer,
        responses={200: StepUpDoneSerializer, **errors(400, 401, 403, 429)},
    )
    def post(self, request):
        serializer = StepUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        if not two_factor_enabled(user):
            raise TwoFactorSetupRequired()
        second_factor_verify(request=service_request(request), user=user, purpose="step_up", **_otp_code(serializer))
        window = settings.SECOND_FACTOR_STEP_UP_SECONDS
        return Response(
            {
                "detail": f"Confirmed. Sensitive actions need no code for {window // 60} minutes.",
                "access": jwt_step_up_access(user=user) if uses_jwt(request) else None,
                "valid_for": window,
            }
        )


@method_decorator(rate_limited("resend_verification"), name="dispatch")
class SmsCodeView(TwoFactorApiView):
    @extend_schema(
        summary="Text me a step-up code",
        description="Send the code with the `challenge_id` to 2fa/step-up/ or with a sensitive request.",
        tags=TAGS,
        request=SmsCodeRequestSerializer,
        responses={200: ChallengeSerializer, **errors(400, 401, 429, 503)},
    )
    def post(self, request):
        serializer = SmsCodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"challenge_id": sms_code_send(user=request.user, **serializer.validated_data)})


class TwoFactorDisableView(TwoFactorApiView):
    @extend_schema(
        summary="Turn two-factor authentication off",
        description="Removes the app, the phone and the recovery codes. Needs a fresh proof; other sessions "
        "and refresh tokens end.",
        tags=TAGS,
        request=OtpSerializer,
        responses={200: TokensAfterChangeSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = OtpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, acting = request.user, service_request(request)
        if not two_factor_enabled(user):
            raise DomainError("Two-factor authentication is already off.")
        require_sensitive_action(acting, needs_verified_email=False, **_otp(serializer.validated_data))
        two_factor_disable(request=acting, user=user)
        return Response(
            {
                "detail": "Two-factor authentication is off. Other sessions were signed out.",
                "tokens": tokens_after_change(request, user, second_factor_used=False),
            }
        )
