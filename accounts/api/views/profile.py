"""The signed-in user: who they are, their profile and notification choices, their data."""

from __future__ import annotations

from django.contrib.auth import logout
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from accounts.api.serializers import (
    AccountDeleteSerializer,
    CurrentUserSerializer,
    NotificationPreferencesSerializer,
    ProfileSerializer,
)
from accounts.api.views.common import TAGS, AccountApiView, uses_session
from accounts.selectors import notification_preferences
from accounts.services.profile import notification_preferences_set, profile_update
from accounts.services.your_data import account_delete, user_data_export, user_data_export_filename
from cryptovault.ratelimits import rate_limited


@extend_schema(summary="The signed-in user", tags=TAGS)
class CurrentUserView(generics.RetrieveAPIView):
    """Who the API thinks you are: a quick check that authentication (any kind) works."""

    serializer_class = CurrentUserSerializer
    api_key_scopes = {"GET": "read"}

    def get_object(self):
        return self.request.user


class ProfileView(AccountApiView):
    @extend_schema(summary="Profile", tags=TAGS, responses={200: ProfileSerializer})
    def get(self, request):
        return Response(ProfileSerializer(request.user).data)

    @extend_schema(
        summary="Change the profile",
        description="Name and time zone. The phone changes only through 2fa/phone/ (it must be verified).",
        tags=TAGS,
        request=ProfileSerializer,
        responses={200: ProfileSerializer},
    )
    def patch(self, request):
        serializer = ProfileSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = profile_update(actor=self.actor, user=request.user, **serializer.validated_data)
        return Response(ProfileSerializer(user).data)


class NotificationPreferencesView(AccountApiView):
    input_serializer = NotificationPreferencesSerializer

    @extend_schema(summary="Notification preferences", tags=TAGS, responses={200: NotificationPreferencesSerializer})
    def get(self, request):
        return Response({"preferences": notification_preferences(user=request.user)})

    @extend_schema(
        summary="Change notification preferences",
        description="Only the event types and channels sent change; the others keep their setting.",
        tags=TAGS,
        request=NotificationPreferencesSerializer,
        responses={200: NotificationPreferencesSerializer},
    )
    def put(self, request):
        preferences = self.parse()["preferences"]
        return Response(
            {"preferences": notification_preferences_set(actor=self.actor, user=request.user, preferences=preferences)}
        )


class ExportView(AccountApiView):
    @extend_schema(
        summary="Export your data",
        description="Everything we hold about the account as JSON: profile, second factors (no secrets), "
        "sessions, API keys (no keys), preferences and the audit log.",
        tags=TAGS,
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        export = user_data_export(actor=self.actor, user=request.user)
        headers = {
            "Content-Disposition": f'attachment; filename="{user_data_export_filename()}"',
            "Cache-Control": "no-store",
        }
        return Response(export, headers=headers)


@method_decorator(rate_limited("login"), name="dispatch")  # checks the password: guarded like sign-in
class AccountDeleteView(AccountApiView):
    input_serializer = AccountDeleteSerializer

    @extend_schema(
        summary="Delete the account",
        description="Needs the password, and a second factor when 2FA is on. Every session, token and API key "
        "stops working; the account is anonymised (the audit log keeps the anonymised row).",
        tags=TAGS,
        request=AccountDeleteSerializer,
        responses={204: None},
    )
    def post(self, request):
        data = self.parse()
        session_client = uses_session(request)
        account_delete(
            actor=self.actor,
            user=request.user,
            password=data["password"],
            otp_code=data["otp_code"],
            challenge_id=data["challenge_id"],
        )
        if session_client:
            logout(request._request)  # the session ended with the account; leave no half-deleted cookie
        return Response(status=status.HTTP_204_NO_CONTENT)
