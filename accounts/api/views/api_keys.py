"""Personal API keys: listed freely; created only with a verified email, 2FA on and a fresh
proof; the whole key is answered once. Another account's key is simply not found."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from accounts.api.serializers import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer
from accounts.api.views.common import TAGS, AccountApiView
from accounts.models import ApiKey
from accounts.services.api_keys import api_key_create, api_key_revoke


class ApiKeysApiView(AccountApiView):
    serializer_class = ApiKeySerializer

    def get_queryset(self):
        return ApiKey.objects.visible_to(self.request.user)


@extend_schema_view(get=extend_schema(summary="API keys", tags=TAGS))
class ApiKeyListCreateView(ApiKeysApiView, generics.ListAPIView):
    input_serializer = ApiKeyCreateSerializer

    @extend_schema(
        summary="Create an API key",
        description="Needs a verified email, 2FA on and a fresh proof (`otp_code`, or a step-up). "
        "The answer's `key` is the only time the whole key is shown.",
        tags=TAGS,
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
    )
    def post(self, request):
        key, raw_key = api_key_create(actor=self.actor, user=request.user, **self.parse())
        return Response({**ApiKeySerializer(key).data, "key": raw_key}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="One API key", tags=TAGS),
    delete=extend_schema(
        summary="Revoke an API key", description="Requests with it are refused from now on.", tags=TAGS
    ),
)
class ApiKeyDetailView(ApiKeysApiView, generics.RetrieveDestroyAPIView):
    lookup_url_kwarg = "key_id"

    def perform_destroy(self, instance: ApiKey) -> None:
        api_key_revoke(actor=self.actor, key=instance)
