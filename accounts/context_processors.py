"""What every page may say about the account: durations in words, from the settings; the unread badge."""

from __future__ import annotations

from functools import cache, partial

from django.http import HttpRequest

from accounts import durations
from accounts.notifications import unread_count


def account(request: HttpRequest) -> dict:
    # Callables: rendered only by the templates that use them. The nav badge's count comes from the
    # cache (no query), asked once per page.
    return {"durations": durations.context, "notifications_unread": cache(partial(_unread, request))}


def _unread(request: HttpRequest) -> int:
    user = getattr(request, "user", None)
    return unread_count(user) if user is not None and user.is_authenticated else 0
