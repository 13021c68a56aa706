"""/api/v1/security/anti-phishing: whether an anti-phishing code is set, and setting it.

GET answers `set` and a `hint` (the first character), never the code: API tokens and keys live in
scripts and logs, and a leaked one must not hand a phisher the phrase that tells our emails from
forgeries. The owner sees the code on /security/anti-phishing/ after a fresh second factor. PUT sets,
changes or (with "") clears it, with a fresh second factor when 2FA is on; no API key may change it.
What a code may be is the service's rule (`security.services.anti_phishing`), answered 400 on `code`.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.api.serializers import OtpSerializer
from cryptovault.api.views import ServiceApiView
from cryptovault.ratelimits import rate_limited
from security.services.anti_phishing import MAX_LENGTH, MIN_LENGTH, anti_phishing_code_set, anti_phishing_hint

TAGS = ["security"]


class AntiPhishingSerializer(serializers.Serializer):
    set = serializers.BooleanField(read_only=True, help_text="Whether our emails to you show a code.")
    hint = serializers.CharField(read_only=True, help_text="The code's first character and `•••`; empty when unset.")


class AntiPhishingSetSerializer(OtpSerializer):
    code = serializers.CharField(
        max_length=64,
        allow_blank=True,
        trim_whitespace=False,  # a space at either end is refused with a message, not silently dropped
        write_only=True,
        help_text=f"{MIN_LENGTH} to {MAX_LENGTH} printable characters, no space at either end, not your email "
        'address or password; "" removes the code.',
    )


def _state(user) -> dict:
    return {"set": bool(user.anti_phishing_code), "hint": anti_phishing_hint(user)}


@method_decorator(rate_limited("login"), name="dispatch")  # a refused code may be the password: like sign-in
class AntiPhishingView(ServiceApiView):
    input_serializer = AntiPhishingSetSerializer
    api_key_scopes = {"GET": "read"}

    @extend_schema(summary="Your anti-phishing code: set or not", tags=TAGS, responses={200: AntiPhishingSerializer})
    def get(self, request):
        return Response(_state(request.user))

    @extend_schema(
        summary="Set, change or remove your anti-phishing code",
        description="Every email we send you shows the code. Needs a fresh second factor (`otp_code`, or a "
        "step-up) when 2FA is on; sends a security alert. The answer does not repeat the code.",
        tags=TAGS,
        request=AntiPhishingSetSerializer,
        responses={200: AntiPhishingSerializer},
    )
    def put(self, request):
        user = anti_phishing_code_set(actor=self.actor, **self.parse())
        return Response(_state(user))
