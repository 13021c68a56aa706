"""What every page may say about the account: durations in words, from the settings."""

from __future__ import annotations

from django.http import HttpRequest

from accounts import durations


def account(request: HttpRequest) -> dict:
    return {"durations": durations.context}  # a callable: rendered only by the templates that use it
