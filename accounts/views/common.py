"""What the account pages share: safe `next` handling, keeping a second-factor proof in the
session, and the step-up redirect. The form → service → error cycle is cryptovault.pages.submit."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from accounts.next_url import safe_next, with_next
from accounts.selectors import two_factor_enabled
from cryptovault.pages import page_actor

__all__ = ["redirect_next", "safe_next", "step_up_if_two_factor", "with_next"]


def redirect_next(request: HttpRequest, default_url_name: str):
    return redirect(safe_next(request, reverse(default_url_name)))


def step_up_if_two_factor(*, back_to: str | None = None):
    """Changing a second factor while 2FA is on needs a fresh proof (a stolen session alone
    must not be able to swap the phone); with 2FA off there is nothing to prove yet.

    A refused POST comes back to the page named `back_to` (a GET there shows the form again).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            fresh = page_actor(request).proved_second_factor_within(settings.SECOND_FACTOR_STEP_UP_SECONDS)
            if two_factor_enabled(request.user) and not fresh:
                back = request.get_full_path()
                if request.method != "GET" and back_to:
                    back = with_next(reverse(back_to), safe_next(request))
                return redirect(with_next(reverse("accounts:step_up"), back))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
