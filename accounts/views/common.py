"""What the account pages share: safe `next` handling, domain errors as form errors and
the step-up redirect."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from accounts.next_url import safe_next, with_next
from accounts.services.second_factor import step_up_is_fresh, two_factor_enabled
from cryptovault.errors import DomainError


def redirect_next(request: HttpRequest, default_url_name: str):
    return redirect(safe_next(request, reverse(default_url_name)))


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show the service's message on the field it names, or above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def add_validation_error(form: forms.Form, exc: ValidationError) -> None:
    """A model's full_clean() errors onto the form fields of the same name, or above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


def step_up_if_two_factor(*, back_to: str | None = None):
    """Changing a second factor while 2FA is on needs a fresh proof (a stolen session alone
    must not be able to swap the phone); with 2FA off there is nothing to prove yet.

    A refused POST comes back to the page named `back_to` (a GET there shows the form again).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if two_factor_enabled(request.user) and not step_up_is_fresh(request):
                back = request.get_full_path()
                if request.method != "GET" and back_to:
                    back = with_next(reverse(back_to), safe_next(request))
                return redirect(with_next(reverse("accounts:step_up"), back))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
