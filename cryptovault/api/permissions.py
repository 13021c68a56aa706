"""Permissions any app's API adds to the defaults (signed in; API keys limited to their scopes,
accounts.permissions.ApiKeyScopes), declared once in settings.REST_FRAMEWORK."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions
from rest_framework.settings import api_settings


class StaffWithViewPermission(DjangoModelPermissions):
    """Staff holding the model's view permission (support, admin) may read; everyone else 403."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff) and super().has_permission(request, view)


def defaults_and(*permissions: type) -> list[type]:
    """The project's default permissions plus what one view needs on top."""
    return [*api_settings.DEFAULT_PERMISSION_CLASSES, *permissions]
