"""Personal API keys: listed freely; created only with a verified email, 2FA on and a fresh
proof; the whole key is answered once. Another account's key is simply not found."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.serializers import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer
from accounts.api.views.common import TAGS, AccountApiMixin, errors, service_request
from accounts.gates import require_sensitive_action
from accounts.models import ApiKey
from accounts.permissions import ApiKeyScopes
from accounts.services.api_keys import api_key_create, api_key_revoke


class ApiKeysApiMixin(AccountApiMixin):
    permission_classes = [IsAuthenticated, ApiKeyScopes]
    serializer_class = ApiKeySerializer

    def get_queryset(self):
        return ApiKey.objects.visible_to(self.request.user)


@extend_schema_view(get=extend_schema(summary="API keys", tags=TAGS, responses={200: ApiKeySerializer(many=True)}))
class ApiKeyListCreateView(ApiKeysApiMixin, generics.ListAPIView):
    @extend_schema(
        summary="Create an API key",
        description="Needs a verified email, 2FA on and a fresh proof (`otp_code`, or a step-up). "
        "The answer's `key` is the only time the whole key is shown.",
        tags=TAGS,
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer, **errors(400, 401, 403)},
    )
    def post(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        acting = service_request(request)
        require_sensitive_action(
            acting, otp_code=data.get("otp_code") or "", challenge_id=data.get("challenge_id") or ""
        )
        key, raw_key = api_key_create(
            request=acting,
            user=request.user,
            name=data["name"],
            scopes=data["scopes"],
            allowed_ips=data["allowed_ips"],
            expires_at=data["expires_at"],
        )
        return Response({**ApiKeySerializer(key).data, "key": raw_key}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="One API key", tags=TAGS, responses={200: ApiKeySerializer, **errors(401, 404)}),
    delete=extend_schema(
        summary="Revoke an API key",
        description="Requests with it are refused from now on.",
        tags=TAGS,
        responses={204: None, **errors(401, 404)},
    ),
)
class ApiKeyDetailView(ApiKeysApiMixin, generics.RetrieveDestroyAPIView):
    lookup_url_kwarg = "key_id"

    def destroy(self, request, *args, **kwargs):
        api_key_revoke(request=service_request(request), user=request.user, key_id=self.kwargs["key_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)
