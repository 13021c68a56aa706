"""Accounts as support sees them: read-only, for staff holding `accounts.view_user`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.filters import SearchFilter
from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated

from accounts.api.serializers import StaffUserSerializer
from accounts.api.views.common import TAGS, AccountApiMixin, errors
from accounts.permissions import ApiKeyScopes
from accounts.selectors import users_with_account_state


class StaffCanView(DjangoModelPermissions):
    """Staff with the model's view permission (support, admin); everyone else 403."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff) and super().has_permission(request, view)


class StaffUsersMixin(AccountApiMixin):
    permission_classes = [IsAuthenticated, ApiKeyScopes, StaffCanView]
    serializer_class = StaffUserSerializer
    filter_backends = [SearchFilter]
    search_fields = ["email", "name"]

    def get_queryset(self):
        return users_with_account_state().order_by("email")


@extend_schema_view(
    get=extend_schema(
        summary="Accounts (staff)",
        description="For support: verification, 2FA and lockout state and roles of each account. `search` "
        "matches email and name.",
        tags=TAGS,
        responses={200: StaffUserSerializer(many=True), **errors(401, 403)},
    )
)
class StaffUserListView(StaffUsersMixin, generics.ListAPIView):
    pass


@extend_schema_view(
    get=extend_schema(
        summary="One account (staff)", tags=TAGS, responses={200: StaffUserSerializer, **errors(401, 403, 404)}
    )
)
class StaffUserDetailView(StaffUsersMixin, generics.RetrieveAPIView):
    lookup_url_kwarg = "user_id"
