"""What every app's pages share: the actor of a page request, and the form → service → error cycle.

A page view validates a form, hands the cleaned data to one service, and on a domain error or a
model's ValidationError shows the message on the form instead of answering 500. Written once
here, so a page is its form, its service call and what to do on success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from cryptovault.actor import Actor
from cryptovault.errors import DomainError

T = TypeVar("T")


def filters_applied(filterset) -> bool:
    """Whether a list page's FilterSet narrows anything (the page then offers "Clear filters")."""
    return any(filterset.data.get(name) for name in filterset.filters)


def page_actor(request: HttpRequest) -> Actor:
    """The actor of a page (or admin) request."""
    return Actor.from_request(request)


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


@dataclass(frozen=True)
class Submission[T]:
    """What became of a posted form: `done` with the service's `result`, or errors on the form."""

    done: bool
    result: T | None = None


def submit[T](request: HttpRequest, form: forms.Form, action: Callable[[dict[str, Any]], T]) -> Submission[T]:
    """On a POST whose form is valid, call `action(cleaned_data)`; its errors land on the form."""
    if request.method != "POST" or not form.is_bound or not form.is_valid():
        return Submission(done=False)
    try:
        return Submission(done=True, result=action(form.cleaned_data))
    except PermissionDenied:  # a refusal of the request itself (security.errors.IpNotAllowed): the 403 page
        raise
    except DomainError as exc:
        add_domain_error(form, exc)
    except ValidationError as exc:
        add_validation_error(form, exc)
    return Submission(done=False)
