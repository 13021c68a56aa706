"""The base every app's API endpoints build on, and the API root.

An endpoint is a few lines: an input serializer parses, one service decides (it gets
`self.actor`), an output serializer answers. Errors need no handling in the view:
cryptovault.api.errors maps domain errors, Django's ValidationError and missing rows to their
4xx, and the schema documents them. Permissions come from settings (signed in; API keys need the
scope the view declares in `api_key_scopes`), so a view states only what differs.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from cryptovault.actor import Actor


class ServiceApiView(APIView):
    """Parse with `input_serializer`, call a service with `self.actor`, answer."""

    input_serializer: type[serializers.Serializer] | None = None

    @cached_property
    def actor(self) -> Actor:
        """Who calls, built once per request after DRF authenticated it."""
        return Actor.from_request(self.request, via="api")

    def parse(self, serializer_class: type[serializers.Serializer] | None = None) -> dict[str, Any]:
        """The request body, validated; a 400 with per-field messages otherwise."""
        serializer_class = serializer_class or self.input_serializer
        assert serializer_class is not None, f"{type(self).__name__} declares no input_serializer"
        serializer = serializer_class(data=self.request.data, context={"request": self.request, "view": self})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class AnonymousServiceApiView(ServiceApiView):
    """Endpoints for people not signed in (sign-up, tokens, password reset).

    No authentication runs, so a stale token a client still sends cannot get in the way.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]


class ApiRootView(APIView):
    """Entry point of /api/v1/: links to every resource and to the docs."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return Response(
            {
                "version": request.version,
                "me": reverse("v1:me", request=request),
                "schema": request.build_absolute_uri("/api/schema/"),
                "docs": request.build_absolute_uri("/api/docs/"),
            }
        )
