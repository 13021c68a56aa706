"""Who is acting, and from where: what services need of an interface, and nothing of HTTP.

Every service that writes takes an `Actor`. Pages and API views build it once per request
(`Actor.from_request`), management commands and Celery tasks build their own
(`Actor.for_command`, `Actor.for_task`), so a service runs the same from anywhere and never
reads a request or its session. Audit records take who, where from, which browser and which
request from it; the sensitive-action gate takes the time of the last second-factor proof.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.exceptions import DisallowedHost

from cryptovault.clientip import client_ip
from cryptovault.request_context import current_request_id

if TYPE_CHECKING:
    from django.http import HttpRequest

Via = Literal["page", "api", "admin", "command", "task", "system"]

# Where pages and session-authenticated API calls keep the time of the last second-factor proof.
SECOND_FACTOR_AT_SESSION_KEY = "cv_second_factor_at"


@dataclass(frozen=True, kw_only=True)
class Actor:
    """The person (or process) behind a service call.

    `user` is whoever acts: the account owner, a staff member acting on someone else's
    account, or None for an anonymous visitor or the system. `session_key` names the browser
    session making the request (None for tokens, API keys, commands and tasks), so "sign out
    everywhere else" can keep it. `second_factor_at` is when this actor last proved a second
    factor (the session's stamp, or `otp_at` in a JWT), for the step-up gate.
    """

    user: Any = None
    via: Via
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    session_key: str | None = None
    second_factor_at: float | None = None
    site_url: str = ""

    # --- building one ---------------------------------------------------------------------------------------
    @classmethod
    def from_request(cls, request: HttpRequest, *, via: Via | None = None) -> Actor:
        """The actor behind an HTTP request (a Django request or DRF's wrapper, once authenticated)."""
        django_request = getattr(request, "_request", request)
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated:
            user = None
        auth = getattr(request, "auth", None)
        # The session speaks for this request only when no token or API key does (they set `auth`).
        session = getattr(django_request, "session", None) if auth is None else None
        proof: float | None = None
        if auth is not None and hasattr(auth, "get"):  # a JWT access token
            proof = _as_time(auth.get("otp_at"))
        elif session is not None:
            proof = _as_time(session.get(SECOND_FACTOR_AT_SESSION_KEY))
        return cls(
            user=user,
            via=via or _via_for_path(django_request.path),
            ip=client_ip(django_request),
            user_agent=django_request.META.get("HTTP_USER_AGENT", "")[:512],
            request_id=getattr(django_request, "id", "") or current_request_id(),
            session_key=session.session_key if session is not None else None,
            second_factor_at=proof,
            site_url=_request_site_url(django_request),
        )

    @classmethod
    def from_request_or_system(cls, request: HttpRequest | None) -> Actor:
        """For hooks that third-party code calls with a request or without one (allauth, signals)."""
        return cls.from_request(request) if request is not None else cls.system()

    @classmethod
    def for_command(cls, name: str, *, user: Any = None) -> Actor:
        """A management command: no address or browser; the request id names the run."""
        return cls(user=user, via="command", request_id=f"cmd-{name}-{uuid.uuid4().hex[:12]}", site_url=_site_url())

    @classmethod
    def for_task(cls, task_id: str, *, user: Any = None) -> Actor:
        """A Celery task: the task id stands where a request id would."""
        return cls(user=user, via="task", request_id=task_id or current_request_id(), site_url=_site_url())

    @classmethod
    def system(cls) -> Actor:
        """Work nobody in particular asked for (start-up, housekeeping)."""
        return cls(via="system", request_id=current_request_id(), site_url=_site_url())

    # --- reading one ----------------------------------------------------------------------------------------
    def acts_for(self, user: Any) -> bool:
        """True when the actor is that account's owner (not staff acting on it, not anonymous)."""
        return self.user is not None and user is not None and self.user.pk == user.pk

    def session_key_of(self, user: Any) -> str | None:
        """The session to keep when `user`'s other sessions end: the actor's own, if it is theirs."""
        return self.session_key if self.acts_for(user) else None

    def proved_second_factor_within(self, seconds: int) -> bool:
        return self.second_factor_at is not None and time.time() - self.second_factor_at <= seconds

    def signed_in_as(self, user: Any) -> Actor:
        """The same client once it proved to be `user` (a token sign-in has no session user yet)."""
        return replace(self, user=user)

    def with_second_factor_now(self) -> Actor:
        """The same actor right after proving a second factor in this very call."""
        return replace(self, second_factor_at=time.time())


def _as_time(value: Any) -> float | None:
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


def _via_for_path(path: str) -> Via:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "page"


def _request_site_url(request: HttpRequest) -> str:
    """Links in emails go where the person came from; the configured SITE_URL otherwise."""
    try:
        return request.build_absolute_uri("/").rstrip("/")
    except (KeyError, DisallowedHost):  # a request built by hand (force_login), or an unknown host
        return _site_url()


def _site_url() -> str:
    return settings.SITE_URL.rstrip("/")
