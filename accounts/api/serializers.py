"""What the account API accepts and answers. Serializers check input; the services decide."""

from __future__ import annotations

import re
import zoneinfo

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiKey, ApiKeyScope, NotificationChannel, SMSChallenge, User, phone_number_validator
from accounts.notifications import EVENT_TYPES
from accounts.selectors import two_factor_summary
from cryptovault.api.serializers import DetailSerializer, ErrorSerializer  # shared shapes, also imported from here


def _password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"}, **kwargs
    )


def _code_field(*, required: bool = True, help_text: str = "") -> serializers.CharField:
    optional = {} if required else {"allow_blank": True, "default": ""}
    return serializers.CharField(required=required, max_length=20, help_text=help_text, **optional)


def _challenge_field() -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", max_length=64, help_text=CHALLENGE_HELP)


OTP_HELP = "6 digits from the authenticator app or the text message, or a recovery code (XXXXX-XXXXX)."
CHALLENGE_HELP = "The challenge_id answered when the code was texted (SMS codes only)."


def _password_errors(password: str, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


@extend_schema_field({"oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]})
class DayOrMomentField(serializers.DateTimeField):
    """`2027-01-01` stays a day (its meaning is the service's rule); anything else is a date-time."""

    def to_internal_value(self, value):
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return serializers.DateField().to_internal_value(value.strip())
        return super().to_internal_value(value)


# --- shared answers -------------------------------------------------------------------------------
class SecondFactorRequiredSerializer(ErrorSerializer):
    """A 401 from sign-in: wrong credentials (no `methods`), or `otp_required` naming the factors to use."""

    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=["totp", "sms", "recovery_code"]),
        required=False,
        help_text="Only with `code` otp_required: second factors this account can use; for `sms`, ask for a "
        "code at token/sms/ first.",
    )


class ChallengeSerializer(serializers.Serializer):
    challenge_id = serializers.CharField(read_only=True, help_text="Send it back with the texted code.")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class OtpSerializer(serializers.Serializer):
    """A fresh second factor for a sensitive action, unless a step-up within the last minutes covers it."""

    otp_code = _code_field(required=False, help_text=OTP_HELP)
    challenge_id = _challenge_field()


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        read_only=True,
        help_text="Shown once: store them now. Null when the account already had recovery codes.",
    )
    tokens = TokenPairSerializer(
        read_only=True,
        allow_null=True,
        help_text="JWT clients only: the change signed out every refresh token, these replace yours.",
    )


class TokensAfterChangeSerializer(DetailSerializer):
    tokens = TokenPairSerializer(
        read_only=True,
        allow_null=True,
        help_text="JWT clients only: the change signed out every refresh token, these replace yours.",
    )


# --- sign-up and verification ---------------------------------------------------------------------
class SignupSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field()
    name = serializers.CharField(max_length=150)

    def validate(self, attrs: dict) -> dict:
        attrs["email"] = User.objects.normalize_email(attrs["email"])
        errors = _password_errors(attrs["password"], User(email=attrs["email"], name=attrs["name"]))
        if errors:
            raise serializers.ValidationError({"password": errors})
        return attrs


class VerifyEmailSerializer(serializers.Serializer):
    code = _code_field(required=False, help_text="The 6 digits from the email (signed in).")
    key = serializers.CharField(
        required=False, allow_blank=True, max_length=512, help_text="The key at the end of the email's link."
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("code") and not attrs.get("key"):
            raise serializers.ValidationError({"code": ["Enter the code from the email, or send the link's key."]})
        return attrs


# --- tokens ------------------------------------------------------------------------------------------
class TokenObtainSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field()
    otp_code = _code_field(required=False, help_text="Needed once two-factor authentication is on. " + OTP_HELP)
    challenge_id = _challenge_field()


class CredentialsSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field()


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(write_only=True)


# --- passwords ---------------------------------------------------------------------------------------
class ForgotPasswordSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetTokenSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="From the reset link: /password/reset/key/<uid>-<token>/.")
    token = serializers.CharField(max_length=128)


class ResetTokenValidSerializer(serializers.Serializer):
    valid = serializers.BooleanField(read_only=True)


class ResetPasswordSerializer(ResetTokenSerializer):
    password = _password_field()


class ChangePasswordSerializer(serializers.Serializer):
    old_password = _password_field()
    new_password = _password_field()

    def validate_old_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The current password is not right.")
        return value

    def validate_new_password(self, value: str) -> str:
        errors = _password_errors(value, self.context["request"].user)
        if errors:
            raise serializers.ValidationError(errors)
        return value


# --- second factors ---------------------------------------------------------------------------------
class TwoFactorSummarySerializer(serializers.Serializer):
    enabled = serializers.BooleanField(read_only=True)
    totp = serializers.BooleanField(read_only=True, help_text="An authenticator app is on.")
    sms = serializers.CharField(read_only=True, allow_null=True, help_text="The verified phone, masked.")
    recovery_codes_remaining = serializers.IntegerField(read_only=True)


class TwoFactorStateSerializer(TwoFactorSummarySerializer):
    totp_pending = serializers.BooleanField(read_only=True, help_text="An authenticator set-up waits for its code.")


class TotpBeginSerializer(serializers.Serializer):
    provisioning_uri = serializers.CharField(read_only=True, help_text="otpauth:// URI for the authenticator app.")
    manual_key = serializers.CharField(read_only=True, help_text="The same secret, to type by hand (base32).")
    qr_svg = serializers.CharField(read_only=True, help_text="The URI as an inline SVG QR code.")


class TotpConfirmSerializer(OtpSerializer):
    """The new app's first code; with 2FA already on, also a fresh proof from a current factor."""

    code = _code_field(help_text="The code the new authenticator app shows.")


class PhoneAddSerializer(OtpSerializer):
    number = serializers.CharField(
        max_length=20, help_text="International form, for example +447700900123.", validators=[phone_number_validator]
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("number"), str):
            data = {**data, "number": "".join(data["number"].split())}
        return super().to_internal_value(data)


class PhoneConfirmSerializer(serializers.Serializer):
    challenge_id = serializers.CharField(max_length=64)
    code = _code_field()


class StepUpSerializer(serializers.Serializer):
    otp_code = _code_field(help_text=OTP_HELP)
    challenge_id = _challenge_field()


class StepUpDoneSerializer(DetailSerializer):
    access = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="JWT clients: an access token carrying the proof; use it for the sensitive request.",
    )
    valid_for = serializers.IntegerField(read_only=True, help_text="Seconds the proof lasts.")


class SmsCodeRequestSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=[SMSChallenge.Purpose.STEP_UP.value], default="step_up")


# --- sessions ---------------------------------------------------------------------------------------
class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    ip = serializers.IPAddressField(read_only=True)
    device = serializers.CharField(read_only=True, help_text='For example "Firefox on Linux".')
    user_agent = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    last_seen_at = serializers.DateTimeField(read_only=True)
    current = serializers.BooleanField(read_only=True, help_text="The session making this request.")


class SessionsEndedSerializer(DetailSerializer):
    ended = serializers.IntegerField(read_only=True)


# --- API keys -----------------------------------------------------------------------------------------
class ApiKeySerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "allowed_ips",
            "expires_at",
            "created_at",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The whole key. Shown this once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyCreateSerializer(OtpSerializer):
    """Parses the request; what a key may hold (networks, expiry) is ApiKey.clean's rule."""

    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=32),
        help_text="One or more of: " + ", ".join(ApiKeyScope.values) + ".",
    )
    allowed_ips = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        help_text=f"Addresses or networks (CIDR) the key may be used from, at most {ApiKey.MAX_ALLOWED_IPS}; "
        "empty: any.",
    )
    expires_at = DayOrMomentField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A day (the key works to the end of that day in your time zone) or a date-time with an offset "
        "(without one it is UTC); in the future, at most five years ahead.",
    )


# --- profile -----------------------------------------------------------------------------------------
class ProfileSerializer(serializers.ModelSerializer):
    timezone = serializers.CharField(max_length=64, help_text="An IANA time zone, for example Europe/Berlin.")
    email_verified = serializers.BooleanField(read_only=True)
    two_factor = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["email", "name", "timezone", "phone", "phone_verified_at", "email_verified", "two_factor"]
        read_only_fields = ["email", "phone", "phone_verified_at"]

    def validate_timezone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"{value!r} is not a time zone. Use a name like Europe/Berlin.")
        return value

    @extend_schema_field(TwoFactorSummarySerializer)
    def get_two_factor(self, user: User) -> dict:
        return two_factor_summary(user)


class NotificationPreferencesSerializer(serializers.Serializer):
    preferences = serializers.DictField(
        child=serializers.DictField(child=serializers.BooleanField()),
        help_text=(
            "{event type: {channel: on}}. Event types: "
            + ", ".join(EVENT_TYPES)
            + "; channels: "
            + ", ".join(NotificationChannel.values)
            + "."
        ),
    )


# --- your data ---------------------------------------------------------------------------------------
class AccountDeleteSerializer(OtpSerializer):
    password = _password_field()


# --- the signed-in user and staff views ------------------------------------------------------------------
class CurrentUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "date_joined", "is_staff"]
        read_only_fields = fields


class StaffUserSerializer(serializers.ModelSerializer):
    """What support may see of an account: its state, never a secret."""

    email_verified = serializers.BooleanField(read_only=True, source="has_verified_email")
    two_factor_enabled = serializers.BooleanField(read_only=True, source="has_two_factor")
    locked = serializers.BooleanField(read_only=True, source="is_locked_out", help_text="Sign-in locked by lockout.")
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "is_active",
            "is_staff",
            "date_joined",
            "last_login",
            "email_verified",
            "two_factor_enabled",
            "locked",
            "roles",
        ]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())
