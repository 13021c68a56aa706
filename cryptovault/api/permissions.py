"""Permissions any app's API adds to the defaults (signed in; API keys limited to their scopes,
accounts.permissions.ApiKeyScopes), declared once in settings.REST_FRAMEWORK."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.settings import api_settings

STAFF_API_NEEDS_TWO_FACTOR = (
    "Staff need two-factor authentication for staff endpoints, as for the admin. Turn it on "
    "(POST /api/v1/auth/2fa/totp/, then totp/confirm/), then sign in again with a code (otp_code)."
)
STAFF_API_NEEDS_SIGN_IN_WITH_CODE = (
    "Staff endpoints need a sign-in that gave the second factor: get a token from /api/v1/auth/token/ "
    "with otp_code, or sign in to the site with your code. A token made without it, or an API key, is not enough."
)


def sign_in_proved_second_factor(request) -> bool:
    """Did this API request's sign-in give a second factor? A session: django-otp's `is_verified()`
    (as the admin asks); a JWT: its `otp_at` (set when the code was given); an API key: never."""
    from accounts.models import ApiKey

    auth = request.auth
    if auth is None:  # the browser session
        is_verified = getattr(request.user, "is_verified", None)
        return bool(callable(is_verified) and is_verified())
    if isinstance(auth, ApiKey) or not hasattr(auth, "get"):
        return False
    return bool(auth.get("otp_at"))


def staff_api_gate(request) -> bool:
    """The admin's rule (cryptovault.admin_gate) for the staff API: outside ADMIN_ALLOWED_NETWORKS
    404, as the admin; then staff only (False: DRF's 403), with 2FA on (403 `two_factor_required`)
    and given at this sign-in (403 `step_up_required`)."""
    from accounts.errors import StepUpRequired, TwoFactorSetupRequired
    from cryptovault.admin_gate import TWO_FACTOR_OFF, admin_reachable_from, staff_second_factor_missing
    from cryptovault.clientip import client_ip

    if not admin_reachable_from(client_ip(getattr(request, "_request", request))):
        raise NotFound()
    user = request.user
    if not (user and user.is_authenticated and user.is_staff):
        return False
    missing = staff_second_factor_missing(user, proved_at_sign_in=sign_in_proved_second_factor(request))
    if missing == TWO_FACTOR_OFF:
        raise TwoFactorSetupRequired(STAFF_API_NEEDS_TWO_FACTOR)
    if missing is not None:
        raise StepUpRequired(STAFF_API_NEEDS_SIGN_IN_WITH_CODE)
    return True


class StaffOnly(BasePermission):
    """Staff, under the admin's rule (`staff_api_gate`); everyone else 403."""

    def has_permission(self, request, view) -> bool:
        return staff_api_gate(request)


class StaffWithViewPermission(DjangoModelPermissions):
    """Staff holding the model's view permission (support, admin) may read; everyone else 403.
    Staff under the admin's rule (`staff_api_gate`)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        return staff_api_gate(request) and super().has_permission(request, view)


def defaults_and(*permissions: type) -> list[type]:
    """The project's default permissions plus what one view needs on top."""
    return [*api_settings.DEFAULT_PERMISSION_CLASSES, *permissions]
