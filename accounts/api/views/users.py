"""Accounts as support sees them: read-only, for staff holding `accounts.view_user`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.filters import SearchFilter

from accounts.api.serializers import StaffUserSerializer
from accounts.api.views.common import TAGS, AccountApiView
from accounts.selectors import users_with_account_state
from cryptovault.api.permissions import StaffWithViewPermission, defaults_and


class StaffUsersApiView(AccountApiView):
    permission_classes = defaults_and(StaffWithViewPermission)
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
    )
)
class StaffUserListView(StaffUsersApiView, generics.ListAPIView):
    pass


@extend_schema_view(get=extend_schema(summary="One account (staff)", tags=TAGS))
class StaffUserDetailView(StaffUsersApiView, generics.RetrieveAPIView):
    lookup_url_kwarg = "user_id"
