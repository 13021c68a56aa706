"""API key scopes, enforced on every endpoint.

A view declares what a key needs per HTTP method in `api_key_scopes`, e.g.
`{"GET": "read", "POST": "trade"}`. Without a declaration, reads need `read` and every
write is refused; views that manage the account itself (keys, 2FA, sessions, password)
set `api_key_scopes = {}` so no key can use them at all.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiKey


class ApiKeyScopes(BasePermission):
    message = "This API key does not have the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        declared = getattr(view, "api_key_scopes", None)
        if declared is None:
            needed = "read" if request.method in SAFE_METHODS else None
        else:
            needed = declared.get(request.method) or (
                "read" if request.method in ("HEAD", "OPTIONS") and declared.get("GET") else None
            )
        if needed is None:
            self.message = "API keys cannot be used for this endpoint; sign in with a session or a JWT."
            return False
        if needed not in key.scopes:
            self.message = f"This API key lacks the '{needed}' scope."
            return False
        return True
