"""The read gate for admin pages over user-owned rows.

Staff lists start from the same `visible_to` as pages and the API, asking as staff: a staff
member holding the model's view permission sees everyone's rows, anyone else only their own.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from cryptovault.access import visible_to


class StaffGateAdminMixin:
    owner_field = "user"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return visible_to(queryset, request.user, owner_field=self.owner_field, as_staff=True)


class ReadOnlyAdminMixin:
    """Staff read these rows; every change goes through an audited action or the owner's own pages."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
