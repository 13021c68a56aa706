"""Two-factor authentication over the API: authenticator app, phone, recovery codes, step-up.

While 2FA is on, changing it needs a fresh proof: a step-up within the last minutes (the
session's stamp, or `otp_at` in the access token from 2fa/step-up/) or `otp_code` sent along.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
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
from accounts.api.views.common import TAGS, AccountApiView, after_credentials_changed, keep_proof, uses_jwt
from accounts.durations import step_up_window
from accounts.errors import TwoFactorSetupRequired
from accounts.gates import require_sensitive_action, require_step_up_if_two_factor
from accounts.qr import qr_svg
from accounts.selectors import totp_pending, two_factor_enabled, two_factor_summary
from accounts.services.auth import jwt_step_up_access
from accounts.services.second_factor import (
    FactorTurnedOn,
    recovery_codes_regenerate,
    second_factor_verify,
    sms_code_send,
    sms_phone_add,
    sms_phone_confirm,
    totp_begin,
    totp_confirm,
    two_factor_disable,
)
from cryptovault.api.schema import error_responses
from cryptovault.ratelimits import rate_limited


def _proof(data: dict) -> dict:
    return {"otp_code": data["otp_code"], "challenge_id": data["challenge_id"]}


class TwoFactorStateView(AccountApiView):
    @extend_schema(summary="Two-factor state", tags=TAGS, responses={200: TwoFactorStateSerializer})
    def get(self, request):
        user = request.user
        return Response({**two_factor_summary(user), "totp_pending": totp_pending(user=user) is not None})


class FactorTurnedOnView(AccountApiView):
    """Confirming a new factor: the proof goes with the session, the answer carries what to show once."""

    def turned_on(self, result: FactorTurnedOn) -> Response:
        keep_proof(self.request, result.device)
        tokens = after_credentials_changed(self.request, self.actor, self.request.user, second_factor_used=True)
        return Response({"recovery_codes": result.recovery_codes, "tokens": tokens})


class TotpBeginView(AccountApiView):
    input_serializer = OtpSerializer

    @extend_schema(
        summary="Authenticator app: start the set-up",
        description="A new secret to scan (QR) or type (manual key). It counts only after totp/confirm/. "
        "With 2FA already on, this needs a fresh proof (`otp_code`, or a step-up).",
        tags=TAGS,
        request=OtpSerializer,
        responses={200: TotpBeginSerializer},
    )
    def post(self, request):
        require_step_up_if_two_factor(self.actor, **_proof(self.parse()))
        device = totp_begin(user=request.user)
        return Response(
            {
                "provisioning_uri": device.provisioning_uri,
                "manual_key": device.manual_key,
                "qr_svg": str(qr_svg(device.provisioning_uri, title="QR code for your authenticator app")),
            }
        )


class TotpConfirmView(FactorTurnedOnView):
    input_serializer = TotpConfirmSerializer

    @extend_schema(
        summary="Authenticator app: confirm with its first code",
        description="Turns the app on. The first time 2FA goes on, the answer carries the recovery codes. "
        "Replacing the app while 2FA is on needs a fresh proof (`otp_code`, or a step-up).",
        tags=TAGS,
        request=TotpConfirmSerializer,
        responses={200: RecoveryCodesSerializer},
    )
    def post(self, request):
        data = self.parse()
        # Replacing the app while 2FA is on is a change of second factor: a fresh proof again,
        # so a pending seed left behind can never be confirmed by whoever holds the session later.
        require_step_up_if_two_factor(self.actor, **_proof(data))
        return self.turned_on(totp_confirm(actor=self.actor, user=request.user, code=data["code"]))


class RecoveryCodesView(AccountApiView):
    input_serializer = OtpSerializer

    @extend_schema(
        summary="New recovery codes",
        description="Ten new codes, shown once; the old ones stop working. Needs 2FA on and a fresh proof.",
        tags=TAGS,
        request=OtpSerializer,
        responses={200: RecoveryCodesSerializer},
    )
    def post(self, request):
        keep_proof(request, require_sensitive_action(self.actor, needs_verified_email=False, **_proof(self.parse())))
        return Response(
            {"recovery_codes": recovery_codes_regenerate(actor=self.actor, user=request.user), "tokens": None}
        )


@method_decorator(rate_limited("resend_verification"), name="dispatch")
class PhoneAddView(AccountApiView):
    input_serializer = PhoneAddSerializer

    @extend_schema(
        summary="Phone: text a code to a new number",
        description="The number becomes a second factor once phone/confirm/ gets the code back. "
        "With 2FA already on, this needs a fresh proof (`otp_code`, or a step-up).",
        tags=TAGS,
        request=PhoneAddSerializer,
        responses={200: ChallengeSerializer, **error_responses(503)},
    )
    def post(self, request):
        data = self.parse()
        require_step_up_if_two_factor(self.actor, **_proof(data))
        return Response({"challenge_id": sms_phone_add(actor=self.actor, user=request.user, number=data["number"])})


class PhoneConfirmView(FactorTurnedOnView):
    input_serializer = PhoneConfirmSerializer

    @extend_schema(
        summary="Phone: confirm with the texted code",
        description="Verifies the phone. If this turned 2FA on, the answer carries new recovery codes.",
        tags=TAGS,
        request=PhoneConfirmSerializer,
        responses={200: RecoveryCodesSerializer},
    )
    def post(self, request):
        return self.turned_on(sms_phone_confirm(actor=self.actor, user=request.user, **self.parse()))


@method_decorator(rate_limited("login"), name="dispatch")
class StepUpView(AccountApiView):
    input_serializer = StepUpSerializer

    @extend_schema(
        summary="Step up: prove it is you before a sensitive action",
        description="A session is stamped for the next minutes. A JWT client gets `access`, an access token "
        "carrying the proof: use it for the sensitive request.",
        tags=TAGS,
        request=StepUpSerializer,
        responses={200: StepUpDoneSerializer},
    )
    def post(self, request):
        data = self.parse()
        user = request.user
        if not two_factor_enabled(user):
            raise TwoFactorSetupRequired()
        device = second_factor_verify(
            actor=self.actor, user=user, code=data["otp_code"], challenge_id=data["challenge_id"], purpose="step_up"
        )
        keep_proof(request, device)
        return Response(
            {
                "detail": f"Confirmed. Sensitive actions need no code for {step_up_window()}.",
                "access": jwt_step_up_access(user=user) if uses_jwt(request) else None,
                "valid_for": settings.SECOND_FACTOR_STEP_UP_SECONDS,
            }
        )


@method_decorator(rate_limited("resend_verification"), name="dispatch")
class SmsCodeView(AccountApiView):
    input_serializer = SmsCodeRequestSerializer

    @extend_schema(
        summary="Text me a step-up code",
        description="Send the code with the `challenge_id` to 2fa/step-up/ or with a sensitive request.",
        tags=TAGS,
        request=SmsCodeRequestSerializer,
        responses={200: ChallengeSerializer, **error_responses(503)},
    )
    def post(self, request):
        return Response({"challenge_id": sms_code_send(user=request.user, **self.parse())})


class TwoFactorDisableView(AccountApiView):
    input_serializer = OtpSerializer

    @extend_schema(
        summary="Turn two-factor authentication off",
        description="Removes the app, the phone and the recovery codes. Needs a fresh proof; other sessions "
        "and refresh tokens end.",
        tags=TAGS,
        request=OtpSerializer,
        responses={200: TokensAfterChangeSerializer},
    )
    def post(self, request):
        user = request.user
        proof = _proof(self.parse())
        if two_factor_enabled(user):  # already off: the service says so (400), whichever interface asks
            require_sensitive_action(self.actor, needs_verified_email=False, **proof)
        two_factor_disable(actor=self.actor, user=user)
        return Response(
            {
                "detail": "Two-factor authentication is off. Other sessions were signed out.",
                "tokens": after_credentials_changed(request, self.actor, user, second_factor_used=False),
            }
        )
