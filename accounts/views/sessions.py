"""Where the user is signed in, and ending those sessions."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import session_rows
from accounts.services.sessions import session_revoke, sessions_revoke_others
from cryptovault.pages import page_actor


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    rows = session_rows(user=request.user, current_key=request.session.session_key)
    return render(request, "accounts/sessions.html", {"sessions": rows, "others": sum(not r["current"] for r in rows)})


@login_required
@require_POST
def session_revoke_view(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        session_revoke(actor=page_actor(request), user=request.user, session_id=session_id)
    except UserSession.DoesNotExist as exc:
        raise Http404("No such session.") from exc
    messages.success(request, "That session is signed out.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_revoke_others_view(request: HttpRequest) -> HttpResponse:
    ended = sessions_revoke_others(actor=page_actor(request), user=request.user)
    messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:sessions")
