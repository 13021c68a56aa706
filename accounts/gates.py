"""The one gate in front of sensitive actions (exchange keys, trading, withdrawals, API keys).

- trading and connecting exchanges need a verified email;
- sensitive actions also need 2FA switched on (REQUIRE_2FA_FOR_SENSITIVE_ACTIONS) and a
  fresh second factor: a proof within SECOND_FACTOR_STEP_UP_SECONDS (`Actor.second_factor_at`),
  or `otp_code` given now.

The gate takes the actor, not the request: pages turn its errors into redirects that come back
(`sensitive_page`), the API into 403s with the error's code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.models import Device

from accounts.errors import EmailNotVerified, InvalidCode, StepUpRequired, TwoFactorSetupRequired
from accounts.models import User
from accounts.next_url import with_next
from accounts.selectors import two_factor_enabled
from accounts.services.second_factor import second_factor_verify
from cryptovault.actor import Actor


def require_verified_email(user: User) -> None:
    if not user.email_verified:
        raise EmailNotVerified()


def require_sensitive_action(
    actor: Actor, *, otp_code: str = "", challenge_id: str = "", needs_verified_email: bool = True
) -> Device | None:
    """Refuse unless the actor may do something sensitive now; the device when `otp_code` proved it.

    Operators running a command or a task have the server itself and are not asked.
    """
    if actor.via in ("command", "task", "system"):
        return None
    user = actor.user
    if needs_verified_email:
        require_verified_email(user)
    enabled = two_factor_enabled(user)
    if settings.REQUIRE_2FA_FOR_SENSITIVE_ACTIONS and not enabled:
        raise TwoFactorSetupRequired()
    if not enabled:
        return None
    if otp_code:
        return second_factor_verify(actor=actor, user=user, code=otp_code, challenge_id=challenge_id, purpose="step_up")
    if not actor.proved_second_factor_within(settings.SECOND_FACTOR_STEP_UP_SECONDS):
        raise StepUpRequired()
    return None


def require_step_up_if_two_factor(actor: Actor, *, otp_code: str = "", challenge_id: str = "") -> None:
    """Changing second factors while 2FA is on needs a fresh proof (a stolen session alone must
    not swap the phone); with 2FA off there is nothing to prove yet."""
    if two_factor_enabled(actor.user):
        require_sensitive_action(actor, otp_code=otp_code, challenge_id=challenge_id, needs_verified_email=False)


def _with_next(url_name: str, request: HttpRequest) -> str:
    return with_next(reverse(url_name), request.get_full_path())


def sensitive_page(*, needs_verified_email: bool = True, needs_two_factor: bool = True):
    """For page views: lead the user through what is missing, then back to this page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            try:
                if needs_two_factor:
                    require_sensitive_action(Actor.from_request(request), needs_verified_email=needs_verified_email)
                elif needs_verified_email:
                    require_verified_email(request.user)
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


CODE_NEEDED = "Enter a current code from your second factor to confirm it is you."


def second_factor_errors_on_code_field(action: Callable[[dict], Any]) -> Callable[[dict], Any]:
    """For a page form with an `otp_code` field: the gate's "prove it is you" errors shown beside it."""

    @wraps(action)
    def wrapped(data: dict) -> Any:
        try:
            return action(data)
        except StepUpRequired as exc:
            raise StepUpRequired(CODE_NEEDED, field="otp_code") from exc
        except InvalidCode as exc:
            raise InvalidCode(exc.message, field="otp_code") from exc

    return wrapped
