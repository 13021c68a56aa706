"""Step-up: a fresh second factor before a sensitive change, then back where the user was."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.forms import SecondFactorForm
from accounts.selectors import two_factor_enabled, two_factor_summary
from accounts.services.second_factor import second_factor_verify, sms_code_send
from accounts.session_proof import session_stamp_second_factor
from accounts.views.common import redirect_next, safe_next, with_next
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited

STEP_UP_CHALLENGE_SESSION_KEY = "cv_step_up_challenge"


def text_step_up_code(request: HttpRequest) -> bool:
    """Text a step-up code; its challenge id stays in this session only. True when sent."""
    try:
        request.session[STEP_UP_CHALLENGE_SESSION_KEY] = sms_code_send(user=request.user, purpose="step_up")
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, f"We texted a code to {two_factor_summary(request.user)['sms']}.")
    return True


@login_required
@rate_limited("login")
def step_up(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, reverse("accounts:security"))
    if not two_factor_enabled(request.user):
        return redirect(next_url)  # nothing to prove; the page itself says what it needs
    if request.method == "POST" and "send_sms" in request.POST:
        text_step_up_code(request)
        return redirect(with_next(reverse("accounts:step_up"), next_url))
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    verified = submit(
        request,
        form,
        lambda data: second_factor_verify(
            actor=page_actor(request),
            user=request.user,
            code=data["otp_code"],
            challenge_id=request.session.get(STEP_UP_CHALLENGE_SESSION_KEY),
            purpose="step_up",
        ),
    )
    if verified.done:
        session_stamp_second_factor(request, verified.result)
        request.session.pop(STEP_UP_CHALLENGE_SESSION_KEY, None)
        return redirect_next(request, "accounts:security")
    context = {"form": form, "summary": two_factor_summary(request.user), "next": next_url}
    return render(request, "accounts/step_up.html", context)
