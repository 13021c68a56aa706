"""Plain helpers every app's tests share: the test password, signing an API client in, a page's text.

Fixtures live in conftest.py files (pytest finds them there); this module holds what tests
import by name. It is not collected (no `test_` prefix), so importing it never runs a test twice.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery-staple"


def sign_in(client: APIClient, email: str, password: str = PASSWORD, **extra) -> dict:
    """Tokens from the API itself, the way an integration gets them; the client then sends the
    access token."""
    answer = client.post("/api/v1/auth/token/", {"email": email, "password": password, **extra}, format="json")
    assert answer.status_code == 200, answer.json()
    tokens = answer.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return tokens


def with_access(client: APIClient, access: str) -> APIClient:
    """The client sends `access` as its bearer token from now on."""
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def post_json(url: str, payload: dict, headers: dict | None = None) -> tuple[int, dict]:
    """POST JSON to a real server on loopback, as an outside client would: (status, body)."""
    request = urllib.request.Request(  # noqa: S310 - the loopback test server
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as answer:
        return answer.code, json.loads(answer.read() or b"{}")


def text(response) -> str:
    """A page's HTML with every run of white space folded to one space, for phrases that wrap in the template."""
    return re.sub(r"\s+", " ", response.content.decode())


def admin_signed_in(client, user):
    """`client` signed in as staff `user` the way the admin demands (cryptovault.admin_gate): 2FA on
    (an authenticator app, turned on here if needed) and given at sign-in. Returns the client."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import TOTPDevice
    from accounts.selectors import two_factor_enabled
    from tests.fakes.authenticator import turn_on_totp

    if not two_factor_enabled(user):
        user.recovery_codes = turn_on_totp(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session.save()
    return client
