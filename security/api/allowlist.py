"""/api/v1/security/whitelist/ip/: your IP allowlist (list, add, remove).

What an entry may hold (a valid address or range, host bits clear, not /0) is the service's rule
(`security.ip_allowlist.parse_network`), answered 400 per field; the serializers only parse. No API
key may change the allowlist (a key's own allowed IPs are set on the key): reading needs `read`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.api.serializers import OtpSerializer
from cryptovault.api.views import ServiceApiView
from security.ip_allowlist import normalise_network
from security.models import IpAllowlistEntry
from security.services.ip_allowlist import MAX_IP_ALLOWLIST_ENTRIES, ip_allowlist_add, ip_allowlist_remove

TAGS = ["security"]

CONFIRM_HELP = (
    "Set to true to make a change that leaves the address this request comes from outside the list "
    "(answered 409 `would_lock_you_out` otherwise, saying which address)."
)


class IpAllowlistEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = IpAllowlistEntry
        fields = ["id", "network", "label", "created_at"]
        read_only_fields = fields


class IpAllowlistAddSerializer(OtpSerializer):
    network = serializers.CharField(
        max_length=100,
        help_text="An IPv4/IPv6 address (`203.0.113.7`, `2001:db8::7`) or CIDR range (`203.0.113.0/24`); "
        "stored normalised (`203.0.113.7/32`). Host bits set, /0 and zone ids are refused.",
    )
    label = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    confirm_lockout = serializers.BooleanField(required=False, default=False, help_text=CONFIRM_HELP)

    def validate_network(self, value: str) -> str:
        """The service's own rule, here too so that every bad field is named in one answer."""
        return normalise_network(value)


class IpAllowlistRemoveSerializer(OtpSerializer):
    confirm_lockout = serializers.BooleanField(required=False, default=False, help_text=CONFIRM_HELP)


class IpAllowlistApiView(ServiceApiView):
    serializer_class = IpAllowlistEntrySerializer
    api_key_scopes = {"GET": "read"}
    pagination_class = None  # at most MAX_IP_ALLOWLIST_ENTRIES rows

    def get_queryset(self):
        return IpAllowlistEntry.objects.visible_to(self.request.user).order_by("created_at", "id")


@extend_schema_view(
    get=extend_schema(
        summary="Your IP allowlist",
        description="Empty: protected actions (orders, withdrawals, deposits, API keys, exchange connections, "
        "whitelist and allowlist changes) are allowed from any address. Otherwise they are refused (403 "
        f"`ip_not_allowed`) from addresses outside it. At most {MAX_IP_ALLOWLIST_ENTRIES} entries.",
        tags=TAGS,
    )
)
class IpAllowlistView(IpAllowlistApiView, generics.ListAPIView):
    input_serializer = IpAllowlistAddSerializer

    @extend_schema(
        summary="Add an address or range",
        description="Needs a verified email, 2FA on and a fresh proof (`otp_code`, or a step-up). Once the list "
        "has entries, only an allowed address may change it. " + CONFIRM_HELP,
        tags=TAGS,
        request=IpAllowlistAddSerializer,
        responses={201: IpAllowlistEntrySerializer},
    )
    def post(self, request):
        entry = ip_allowlist_add(actor=self.actor, **self.parse())
        return Response(IpAllowlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="One IP allowlist entry", tags=TAGS),
    delete=extend_schema(
        summary="Remove an IP allowlist entry",
        description="Needs a fresh proof (`otp_code` in the body, or a step-up). Removing the last entry allows "
        "every address again. " + CONFIRM_HELP,
        tags=TAGS,
        request=IpAllowlistRemoveSerializer,
        responses={204: None},
    ),
)
class IpAllowlistEntryView(IpAllowlistApiView, generics.RetrieveDestroyAPIView):
    lookup_url_kwarg = "entry_id"
    input_serializer = IpAllowlistRemoveSerializer

    def perform_destroy(self, instance: IpAllowlistEntry) -> None:
        ip_allowlist_remove(actor=self.actor, entry=instance, **self.parse())
