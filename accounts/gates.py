"""The one gate in front of sensitive actions (exchange keys, trading, withdrawals, API keys).

- trading and connecting exchanges need a verified email;
- sensitive actions also need 2FA switched on (REQUIRE_2FA_FOR_SENSITIVE_ACTIONS) and a
  fresh second factor: step-up within SECOND_FACTOR_STEP_UP_SECONDS, or `otp_code` given now.

Pages turn the errors into redirects that come back (`sensitive_page`), the API into 403s
with the error's code.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from accounts.errors import EmailNotVerified, StepUpRequired, TwoFactorSetupRequired
from accounts.next_url import with_next
from accounts.services.second_factor import second_factor_verify, step_up_is_fresh, two_factor_enabled


def require_verified_email(request: HttpRequest) -> None:
    if not request.user.email_verified:
        raise EmailNotVerified()


def require_sensitive_action(
    request: HttpRequest, *, otp_code: str = "", challenge_id: str = "", needs_verified_email: bool = True
) -> None:
    user = request.user
    if needs_verified_email:
        require_verified_email(request)
    if settings.REQUIRE_2FA_FOR_SENSITIVE_ACTIONS and not two_factor_enabled(user):
        raise TwoFactorSetupRequired()
    if not two_factor_enabled(user):
        return
    if otp_code:
        second_factor_verify(request=request, user=user, code=otp_code, challenge_id=challenge_id, purpose="step_up")
        return
    if not step_up_is_fresh(request):
        raise StepUpRequired()


def _with_next(url_name: str, request: HttpRequest) -> str:
    return with_next(reverse(url_name), request.get_full_path())


def sensitive_page(*, needs_verified_email: bool = True, needs_two_factor: bool = True):
    """For page views: lead the user through what is missing, then back to this page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            try:
                if needs_two_factor:
                    require_sensitive_action(request, needs_verified_email=needs_verified_email)
                elif needs_verified_email:
                    require_verified_email(request)
            except EmailNotVerified as exc:
                messages.warning(request, exc.message)
                return redirect(_with_next("accounts:verify_email", request))
            except TwoFactorSetupRequired as exc:
                messages.warning(request, exc.message)
                return redirect(_with_next("accounts:security", request))
            except StepUpRequired:
                return redirect(_with_next("accounts:step_up", request))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
