"""The one read gate: which rows of a user-owned model a person may see.

Every page, API view, selector, service and admin view starts its query of user-owned rows
from `visible_to(user)`, so the interfaces can never disagree on who sees what, and another
user's object is simply not found (404). Staff read everyone's rows only where they ask for
it (`as_staff=True`, the admin) and hold the model's view permission; in their own pages and
API they see their own rows like everybody else.
"""

from __future__ import annotations

from typing import Any, Self

from django.db import models


def visible_to[Q: models.QuerySet](queryset: Q, user: Any, *, owner_field: str = "user", as_staff: bool = False) -> Q:
    """`queryset` narrowed to what `user` may read; also for models we do not own (allauth's)."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    if as_staff and user.is_staff:
        meta = queryset.model._meta
        if user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            return queryset.all()
    return queryset.filter(**{owner_field: user})


class OwnedQuerySet(models.QuerySet):
    """A queryset of rows that belong to one account through `owner_field`."""

    owner_field = "user"

    def visible_to(self, user: Any, *, as_staff: bool = False) -> Self:
        return visible_to(self, user, owner_field=self.owner_field, as_staff=as_staff)
