"""The security activity page: a person's own audit records, filtered, paginated, exportable.

Generic views made of attributes, as NetBox's list views are: the FilterSet the API list uses,
the selector every read starts from, the API's page size. The CSV download is the same filtered
list without pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django_filters.views import FilterMixin, FilterView

from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied
from security.exports import activity_csv_response
from security.filters import AuditEventFilterSet
from security.selectors import activity_rows, audit_events_for


class ActivityMixin(LoginRequiredMixin, FilterMixin):
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        return audit_events_for(user=self.request.user)


class ActivityView(ActivityMixin, FilterView):
    template_name = "security/activity.html"
    paginate_by = StandardPagination.page_size  # 50, as the API's pages

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        context["rows"] = activity_rows(context["object_list"])
        context["filtered"] = filters_applied(filterset)
        return context


class ActivityExportView(ActivityMixin, View):
    """The filtered records as CSV; a filter that is not valid goes back to the page, which says why."""

    def get(self, request: HttpRequest) -> HttpResponseBase:
        filterset = self.get_filterset(self.get_filterset_class())
        if filterset.is_bound and not filterset.is_valid():
            return redirect(f"{reverse('security:activity')}?{request.GET.urlencode()}")
        return activity_csv_response(request, filterset.qs)
