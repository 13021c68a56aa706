"""Where the account is signed in (browser sessions), and ending those sessions."""

from __future__ import annotations

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts.api.serializers import SessionsEndedSerializer, SessionSerializer
from accounts.api.views.common import TAGS, AccountApiView
from accounts.selectors import session_rows
from accounts.services.sessions import session_revoke, sessions_revoke_others


class SessionListView(AccountApiView):
    @extend_schema(
        summary="Browser sessions",
        description="Where the account is signed in, most recently seen first.",
        tags=TAGS,
        responses={200: SessionSerializer(many=True)},
    )
    def get(self, request):
        rows = session_rows(user=request.user, current_key=self.actor.session_key)
        return Response(SessionSerializer(rows, many=True).data)


class SessionDetailView(AccountApiView):
    @extend_schema(
        summary="Sign out one session",
        description="Another account's session answers 404.",
        tags=TAGS,
        responses={204: None},
    )
    def delete(self, request, session_id: int):
        current = self.actor.session_key
        session_revoke(actor=self.actor, user=request.user, session_id=session_id)
        if current is not None and not request.session.exists(current):
            logout(request._request)  # this very session ended: leave it cleanly, no half-deleted cookie
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionsRevokeOthersView(AccountApiView):
    @extend_schema(
        summary="Sign out every other session", tags=TAGS, request=None, responses={200: SessionsEndedSerializer}
    )
    def post(self, request):
        ended = sessions_revoke_others(actor=self.actor, user=request.user)
        return Response({"detail": f"Signed out {ended} other session{'s' if ended != 1 else ''}.", "ended": ended})
