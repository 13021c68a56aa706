"""Where the account is signed in (browser sessions), and ending those sessions."""

from __future__ import annotations

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.api.serializers import SessionsEndedSerializer, SessionSerializer
from accounts.api.views.common import TAGS, AccountApiView, errors, service_request
from accounts.permissions import ApiKeyScopes
from accounts.selectors import session_rows
from accounts.services.sessions import current_session_key, session_revoke, sessions_revoke_others


class SessionsApiView(AccountApiView):
    permission_classes = [IsAuthenticated, ApiKeyScopes]


class SessionListView(SessionsApiView):
    @extend_schema(
        summary="Browser sessions",
        description="Where the account is signed in, most recently seen first.",
        tags=TAGS,
        responses={200: SessionSerializer(many=True), **errors(401)},
    )
    def get(self, request):
        rows = session_rows(user=request.user, current_key=current_session_key(service_request(request)))
        return Response(SessionSerializer(rows, many=True).data)


class SessionDetailView(SessionsApiView):
    @extend_schema(
        summary="Sign out one session",
        description="Another account's session answers 404.",
        tags=TAGS,
        responses={204: None, **errors(401, 404)},
    )
    def delete(self, request, session_id: int):
        current = current_session_key(service_request(request))
        session_revoke(request=service_request(request), user=request.user, session_id=session_id)
        if current is not None and not request.session.exists(current):
            logout(request._request)  # this very session ended: leave it cleanly, no half-deleted cookie
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionsRevokeOthersView(SessionsApiView):
    @extend_schema(
        summary="Sign out every other session",
        tags=TAGS,
        request=None,
        responses={200: SessionsEndedSerializer, **errors(401)},
    )
    def post(self, request):
        ended = sessions_revoke_others(request=service_request(request), user=request.user)
        return Response({"detail": f"Signed out {ended} other session{'s' if ended != 1 else ''}.", "ended": ended})
