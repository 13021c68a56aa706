"""Your data: take a copy of everything we hold, or delete the account."""

from __future__ import annotations

import json

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import DeleteAccountForm
from accounts.selectors import two_factor_enabled, two_factor_summary
from accounts.services.your_data import account_delete, user_data_export, user_data_export_filename
from accounts.views.step_up import STEP_UP_CHALLENGE_SESSION_KEY, text_step_up_code
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited


@login_required
@rate_limited("login")  # the form checks the password: as guarded as the sign-in form
def your_data(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST" and "send_sms" in request.POST:
        text_step_up_code(request)
        return redirect("accounts:your_data")
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, two_factor=two_factor_enabled(user))
    deleted = submit(
        request,
        form,
        lambda data: account_delete(
            actor=page_actor(request),
            user=user,
            password=data["password"],
            otp_code=data.get("otp_code", ""),
            challenge_id=request.session.get(STEP_UP_CHALLENGE_SESSION_KEY) or "",
        ),
    )
    if deleted.done:
        logout(request)
        return redirect("accounts:goodbye")
    context = {"form": form, "summary": two_factor_summary(user)}
    return render(request, "accounts/your_data.html", context)


@login_required
def your_data_export(request: HttpRequest) -> HttpResponse:
    export = user_data_export(actor=page_actor(request), user=request.user)
    response = HttpResponse(json.dumps(export, indent=2, default=str), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{user_data_export_filename()}"'
    response["Cache-Control"] = "no-store"
    return response


def goodbye(request: HttpRequest) -> HttpResponse:
    """Shown after the account was deleted, to someone no longer signed in."""
    return render(request, "accounts/goodbye.html")
