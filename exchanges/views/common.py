"""What the exchange pages share: the owned-connection lookup, the sensitive-page gate that never
loses typed keys, and turning the services' answers into flashes and form fields."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict

from accounts.errors import StepUpRequired
from accounts.gates import sensitive_page
from exchanges.auditor import key_warnings
from exchanges.forms import add_code_field
from exchanges.models import ExchangeConnection
from exchanges.selectors import connection_for

STEP_UP_ON_PAGE = "Confirm it is you: enter a current code from your authenticator app."
WARNING_LEVELS = {"danger": messages.ERROR, "warning": messages.WARNING, "info": messages.INFO}


def owned_connection(request: HttpRequest, pk: int) -> ExchangeConnection:
    """The signed-in user's connection; anyone else's is not found (404), never forbidden."""
    try:
        return connection_for(user=request.user, pk=pk)
    except ExchangeConnection.DoesNotExist:
        raise Http404("No such connection.") from None


def posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST (even an empty one), None otherwise."""
    return request.POST if request.method == "POST" else None


def sensitive_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A GET is led through a verified email, 2FA and a fresh step-up first, and back
    (`accounts.gates.sensitive_page`). A POST is not redirected, which would drop what was typed:
    it needs the verified email, and the service asks for the rest (a step-up that lapsed while the
    user typed becomes a code field on the form, `asks_for_code`)."""
    on_get = sensitive_page()(view)
    on_post = sensitive_page(needs_two_factor=False)(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return (on_get if request.method == "GET" else on_post)(request, *args, **kwargs)

    return wrapped


def asks_for_code(form: forms.Form, action: Callable[[dict], Any]) -> Callable[[dict], Any]:
    """The action, with the service's "a fresh second factor is needed" shown as a code field."""

    def wrapped(data: dict) -> Any:
        try:
            return action(data)
        except StepUpRequired as exc:
            add_code_field(form)
            raise StepUpRequired(STEP_UP_ON_PAGE, field="otp_code") from exc

    return wrapped


def flash_key_warnings(request: HttpRequest, connection: ExchangeConnection) -> None:
    """The key auditor's findings, right after keys are stored."""
    for warning in key_warnings(connection):
        messages.add_message(request, WARNING_LEVELS.get(warning.level, messages.WARNING), warning.message)
