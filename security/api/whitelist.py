"""/api/v1/security/whitelist/withdrawal/: the withdrawal address whitelist and whitelist-only mode.

The page's services and selectors: adding or removing an address needs a fresh second factor
(`otp_code`, or a step-up within the last minutes) and sends a security alert; a new address is
usable from `usable_from` (WITHDRAWAL_ADDRESS_COOLDOWN_HOURS later). Bad input answers 400 with
per-field messages (`asset`, `network`, `address`, `memo`, `label`). Another account's address is
not found. API keys may read (scope `read`) but never change the whitelist: that is for a person.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.api.serializers import OtpSerializer
from cryptovault.api.serializers import ErrorSerializer
from cryptovault.api.views import ServiceApiView
from security.models import WithdrawalAddress
from security.selectors import whitelist_only_in_force, whitelist_only_turns_off_at, withdrawal_addresses_for
from security.services.whitelist import whitelist_mode_set, withdrawal_address_add, withdrawal_address_remove

TAGS = ["security"]
WRITE_ERRORS = {
    400: ErrorSerializer,
    403: ErrorSerializer,
}


class WithdrawalAddressSerializer(serializers.ModelSerializer):
    usable = serializers.SerializerMethodField(help_text="Whether a withdrawal may go here now (past the cooldown).")

    class Meta:
        model = WithdrawalAddress
        fields = ["id", "label", "asset", "network", "address", "memo", "created_at", "usable_from", "usable"]
        extra_kwargs = {
            "network": {"help_text": "The chain's code (`BTC`, `ETH`, `TRX`, `BSC`, …)."},
            "address": {"help_text": "In its canonical form (EIP-55 checksum case for EVM chains)."},
            "usable_from": {"help_text": "When the cooldown ends: withdrawals may use the address from then."},
        }

    def get_usable(self, address: WithdrawalAddress) -> bool:
        return address.usable_at(self.context["now"])


class WithdrawalAddressCreateSerializer(OtpSerializer):
    asset = serializers.CharField(max_length=16, help_text="`BTC`, `ETH`, `USDT`, …")
    network = serializers.CharField(
        max_length=32, help_text="The chain: `BTC`, `ETH`, `ARBITRUM`, `BSC`, `AVAXC`, `TRX`, `SOL`, `XRP`, …"
    )
    address = serializers.CharField(max_length=128)
    memo = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Memo or destination tag (XRP)."
    )
    label = serializers.CharField(max_length=80)


class WhitelistModeSerializer(serializers.Serializer):
    whitelist_only = serializers.BooleanField(
        help_text="True: withdrawals go only to whitelisted addresses past their cooldown (the default). "
        "Still true after turning it off, until `off_from`."
    )
    off_from = serializers.DateTimeField(
        allow_null=True,
        help_text="When the mode, turned off, stops applying (WITHDRAWAL_ADDRESS_COOLDOWN_HOURS after the "
        "switch); null unless it is turning off.",
    )


class WhitelistModeChangeSerializer(OtpSerializer):
    """Turning the mode off needs `otp_code` (or a recent step-up); turning it on needs nothing."""

    whitelist_only = serializers.BooleanField(
        help_text="False turns it off after the cooldown; true turns it on at once (cancelling a pending switch-off)."
    )


def whitelist_mode(user) -> dict:
    """The mode as it applies now: what the GET and the PUT answer."""
    now = timezone.now()
    return WhitelistModeSerializer(
        {"whitelist_only": whitelist_only_in_force(user, now), "off_from": whitelist_only_turns_off_at(user, now)}
    ).data


class WhitelistApiView(ServiceApiView):
    api_key_scopes = {"GET": "read"}

    def get_queryset(self):
        return withdrawal_addresses_for(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema_view(
    get=extend_schema(
        summary="Your withdrawal whitelist",
        description="The addresses withdrawals may go to (removed ones are left out), with `usable` and "
        "`usable_from`: a new address waits out the cooldown before withdrawals may use it.",
        tags=TAGS,
    )
)
class WithdrawalAddressListCreateView(WhitelistApiView, generics.ListAPIView):
    serializer_class = WithdrawalAddressSerializer
    input_serializer = WithdrawalAddressCreateSerializer

    @extend_schema(
        summary="Whitelist a withdrawal address",
        description="Needs a verified email, 2FA on and a fresh proof (`otp_code`, or a step-up). The address "
        "is checked by its chain's rules (Bitcoin base58check and bech32/bech32m, EIP-55 for EVM chains, …) "
        "and stored canonically; it becomes usable at `usable_from`. Sends a critical security alert.",
        tags=TAGS,
        request=WithdrawalAddressCreateSerializer,
        responses={201: WithdrawalAddressSerializer, 409: ErrorSerializer, **WRITE_ERRORS},
        examples=[
            OpenApiExample(
                "A Bitcoin address",
                value={
                    "asset": "BTC",
                    "network": "BTC",
                    "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                    "label": "Cold storage",
                    "otp_code": "123456",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        address = withdrawal_address_add(actor=self.actor, **self.parse())
        return Response(
            WithdrawalAddressSerializer(address, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    get=extend_schema(
        summary="One whitelisted withdrawal address",
        description="With `usable` and `usable_from`. Another account's address, or a removed one, is not found.",
        tags=TAGS,
    )
)
class WithdrawalAddressDetailView(WhitelistApiView, generics.RetrieveAPIView):
    serializer_class = WithdrawalAddressSerializer
    lookup_url_kwarg = "address_id"

    @extend_schema(
        summary="Remove a withdrawal address",
        description="Needs a fresh proof: `otp_code` in the body (or a recent step-up). Withdrawals can no "
        "longer go to it; adding it again starts a new cooldown. Sends a security alert.",
        tags=TAGS,
        request=OtpSerializer,
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request, address_id: int):
        address = self.get_object()
        withdrawal_address_remove(actor=self.actor, address=address, **self.parse(OtpSerializer))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WhitelistModeView(ServiceApiView):
    api_key_scopes = {"GET": "read"}

    @extend_schema(summary="Whitelist-only mode", tags=TAGS, responses={200: WhitelistModeSerializer})
    def get(self, request):
        return Response(whitelist_mode(request.user))

    @extend_schema(
        summary="Switch whitelist-only mode",
        description="On at once, at any time. Off needs a fresh proof (`otp_code`, or a step-up) and sends a "
        "critical security alert; it takes effect only at `off_from`, WITHDRAWAL_ADDRESS_COOLDOWN_HOURS later "
        "(the wait a new address has), and from then withdrawals may go to any valid address. Turning it on "
        "before then cancels the switch-off.",
        tags=TAGS,
        request=WhitelistModeChangeSerializer,
        responses={200: WhitelistModeSerializer, **WRITE_ERRORS},
    )
    def put(self, request):
        user = whitelist_mode_set(actor=self.actor, **self.parse(WhitelistModeChangeSerializer))
        return Response(whitelist_mode(user))
