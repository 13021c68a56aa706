"""The second step of signing in: after the password, before any session is granted.

allauth keeps the half-done login in the session; `LoginStageController.enter` gives it back
only while our stage is the current one, so this page cannot be reached any other way.

A wrong code counts toward the lockout like a wrong password (accounts.lockout): once the
account is locked for this client, no code is even checked.
"""

from __future__ import annotations

from allauth.account.internal.stagekit import stash_login
from allauth.account.stages import LoginStageController
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.durations import sms_code_lifetime
from accounts.errors import InvalidCode
from accounts.forms import SecondFactorForm
from accounts.lockout import lockout_response, sign_in_code_failed, sign_in_locked
from accounts.selectors import two_factor_summary
from accounts.services.second_factor import second_factor_verify, sms_code_send
from accounts.session_proof import session_stamp_second_factor
from accounts.stages import SecondFactorStage
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited


@rate_limited("login")
def two_factor_authenticate(request: HttpRequest) -> HttpResponse:
    stage = LoginStageController.enter(request, SecondFactorStage.key)
    if stage is None:
        return redirect("account_login")
    user = stage.login.user
    if request.method == "POST" and sign_in_locked(request, email=user.email):
        return lockout_response(request)
    summary = two_factor_summary(user)
    if request.method == "POST" and "send_sms" in request.POST:
        try:
            # The code we text is bound to this login attempt: its challenge id stays in the stage.
            stage.state["challenge_id"] = sms_code_send(user=user, purpose="login")
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            stash_login(request, stage.login)
            messages.success(request, f"We texted a code to {summary['sms']}. It works for {sms_code_lifetime()}.")
        return redirect("accounts:two_factor_authenticate")
    form = SecondFactorForm(request.POST if request.method == "POST" else None)

    def verify(data):
        try:
            return second_factor_verify(
                actor=page_actor(request).signed_in_as(user),
                user=user,
                code=data["otp_code"],
                challenge_id=stage.state.get("challenge_id"),
                purpose="login",
            )
        except InvalidCode:
            # Counted like a wrong password; at the limit AxesMiddleware answers with the lockout.
            sign_in_code_failed(request, email=user.email)
            raise

    verified = submit(request, form, verify)
    if verified.done:
        session_stamp_second_factor(request, verified.result)
        return stage.exit()
    context = {"form": form, "summary": summary, "sms_sent": bool(stage.state.get("challenge_id"))}
    return render(request, "accounts/two_factor_authenticate.html", context)
