"""The second step of signing in: after the password, before any session is granted.

allauth keeps the half-done login in the session; `LoginStageController.enter` gives it back
only while our stage is the current one, so this page cannot be reached any other way.
"""

from __future__ import annotations

from allauth.account.internal.stagekit import stash_login
from allauth.account.stages import LoginStageController
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import SecondFactorForm
from accounts.ratelimits import rate_limited
from accounts.services.second_factor import second_factor_verify, sms_code_send, two_factor_summary
from accounts.stages import SecondFactorStage
from accounts.views.common import add_domain_error
from cryptovault.errors import DomainError


@rate_limited("login")
def two_factor_authenticate(request: HttpRequest) -> HttpResponse:
    stage = LoginStageController.enter(request, SecondFactorStage.key)
    if stage is None:
        return redirect("account_login")
    user = stage.login.user
    summary = two_factor_summary(user)
    form = SecondFactorForm()
    if request.method == "POST" and "send_sms" in request.POST:
        try:
            # The code we text is bound to this login attempt: its challenge id stays in the stage.
            stage.state["challenge_id"] = sms_code_send(user=user, purpose="login")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            stash_login(request, stage.login)
            messages.success(request, f"We texted a code to {summary['sms']}. It works for 10 minutes.")
        return redirect("accounts:two_factor_authenticate")
    if request.method == "POST":
        form = SecondFactorForm(request.POST)
        if form.is_valid():
            try:
                second_factor_verify(
                    request=request,
                    user=user,
                    code=form.cleaned_data["otp_code"],
                    challenge_id=stage.state.get("challenge_id"),
                    purpose="login",
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                return stage.exit()
    context = {"form": form, "summary": summary, "sms_sent": bool(stage.state.get("challenge_id"))}
    return render(request, "accounts/two_factor_authenticate.html", context)
