"""The Security page: turning two-factor authentication on and off, and the factors behind it.

A user the gate sent here (?next=) is brought back once 2FA is on.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.durations import sms_code_lifetime
from accounts.forms import PhoneAddForm, PhoneCodeForm, TOTPConfirmForm
from accounts.gates import sensitive_page
from accounts.qr import qr_svg
from accounts.selectors import totp_pending, two_factor_summary
from accounts.services.second_factor import (
    FactorTurnedOn,
    recovery_codes_regenerate,
    sms_phone_add,
    sms_phone_confirm,
    totp_begin,
    totp_confirm,
    two_factor_disable,
)
from accounts.session_proof import session_stamp_second_factor
from accounts.views.common import safe_next, step_up_if_two_factor, with_next
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited

RECOVERY_CODES_SESSION_KEY = "cv_recovery_codes"
PHONE_CHALLENGE_SESSION_KEY = "cv_phone_challenge"
second_factor_change = sensitive_page(needs_verified_email=False, needs_two_factor=True)


def _show_recovery_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    """Codes travel to the next page through the session once; that page removes them."""
    request.session[RECOVERY_CODES_SESSION_KEY] = codes
    return redirect(with_next(reverse("accounts:recovery_codes"), safe_next(request)))


def _done(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, reverse("accounts:security")))


def _factor_turned_on(request: HttpRequest, result: FactorTurnedOn, message: str) -> HttpResponse:
    """This session keeps the proof of the new factor; recovery codes, if it turned 2FA on, are shown once."""
    session_stamp_second_factor(request, result.device)
    messages.success(request, message)
    return _show_recovery_codes(request, result.recovery_codes) if result.recovery_codes else _done(request)


@login_required
def security(request: HttpRequest) -> HttpResponse:
    context = {
        "summary": two_factor_summary(request.user),
        "totp_pending": totp_pending(user=request.user) is not None,
        "next": safe_next(request),
    }
    return render(request, "accounts/security.html", context)


@login_required
@require_POST
@step_up_if_two_factor(back_to="accounts:security")
def totp_start(request: HttpRequest) -> HttpResponse:
    totp_begin(user=request.user)
    return redirect(with_next(reverse("accounts:totp_setup"), safe_next(request)))


@login_required
@step_up_if_two_factor(back_to="accounts:security")
def totp_setup(request: HttpRequest) -> HttpResponse:
    device = totp_pending(user=request.user)
    if device is None:
        messages.info(request, "Start the set-up from here.")
        return redirect(with_next(reverse("accounts:security"), safe_next(request)))
    form = TOTPConfirmForm(request.POST or None)
    confirmed = submit(request, form, lambda data: totp_confirm(actor=page_actor(request), user=request.user, **data))
    if confirmed.done:
        return _factor_turned_on(
            request, confirmed.result, "Your authenticator app is on. Sign-ins now ask for its code."
        )
    context = {
        "form": form,
        "manual_key": device.manual_key,
        "qr_code": qr_svg(device.provisioning_uri, title="QR code for your authenticator app"),
        "next": safe_next(request),
    }
    return render(request, "accounts/totp_setup.html", context)


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(request, "Recovery codes are shown only once. Generate new ones if you lost them.")
        return redirect("accounts:security")
    context = {"codes": codes, "next": safe_next(request, reverse("accounts:security"))}
    return render(request, "accounts/recovery_codes.html", context)


@login_required
@second_factor_change
def recovery_codes_regenerate_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        codes = recovery_codes_regenerate(actor=page_actor(request), user=request.user)
        messages.success(request, "New recovery codes are ready. The old ones no longer work.")
        return _show_recovery_codes(request, codes)
    return render(request, "accounts/recovery_codes_regenerate.html")


@login_required
@rate_limited("resend_verification")  # each POST sends a text that costs money
@step_up_if_two_factor()
def phone_add(request: HttpRequest) -> HttpResponse:
    form = PhoneAddForm(request.POST or None)
    sent = submit(request, form, lambda data: sms_phone_add(actor=page_actor(request), user=request.user, **data))
    if sent.done:
        request.session[PHONE_CHALLENGE_SESSION_KEY] = sent.result
        messages.success(request, f"We texted you a code. It works for {sms_code_lifetime()}.")
        return redirect(with_next(reverse("accounts:phone_confirm"), safe_next(request)))
    return render(request, "accounts/phone_add.html", {"form": form, "next": safe_next(request)})


@login_required
def phone_confirm(request: HttpRequest) -> HttpResponse:
    challenge_id = request.session.get(PHONE_CHALLENGE_SESSION_KEY)
    if not challenge_id:
        return redirect(with_next(reverse("accounts:phone_add"), safe_next(request)))
    form = PhoneCodeForm(request.POST or None)
    confirmed = submit(
        request,
        form,
        lambda data: sms_phone_confirm(
            actor=page_actor(request), user=request.user, challenge_id=challenge_id, code=data["code"]
        ),
    )
    if confirmed.done:
        request.session.pop(PHONE_CHALLENGE_SESSION_KEY, None)
        # If the phone turned 2FA on, the user needs recovery codes they have actually seen.
        return _factor_turned_on(
            request, confirmed.result, "Your phone is verified. Sign-ins can now use a texted code."
        )
    return render(request, "accounts/phone_confirm.html", {"form": form, "next": safe_next(request)})


@login_required
@second_factor_change
def two_factor_disable_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            two_factor_disable(actor=page_actor(request), user=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Two-factor authentication is off. Other sessions were signed out.")
        return redirect("accounts:security")
    return render(request, "accounts/two_factor_disable.html")
