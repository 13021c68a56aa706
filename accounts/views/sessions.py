"""Where the user is signed in, and ending those sessions."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.services.sessions import session_revoke, sessions_list, sessions_revoke_others
from accounts.views.common import describe_user_agent


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    current = request.session.session_key
    rows = [
        {
            "id": session.pk,
            "device": describe_user_agent(session.user_agent),
            "user_agent": session.user_agent,
            "ip": session.ip,
            "created_at": session.created_at,
            "last_seen_at": session.last_seen_at,
            "current": session.session_key == current,
        }
        for session in sessions_list(user=request.user)
    ]
    return render(request, "accounts/sessions.html", {"sessions": rows, "others": sum(not r["current"] for r in rows)})


@login_required
@require_POST
def session_revoke_view(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        session_revoke(request=request, user=request.user, session_id=session_id)
    except UserSession.DoesNotExist as exc:
        raise Http404("No such session.") from exc
    messages.success(request, "That session is signed out.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_revoke_others_view(request: HttpRequest) -> HttpResponse:
    ended = sessions_revoke_others(request=request, user=request.user)
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:sessions")
