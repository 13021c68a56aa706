"""The notification centre: what the user was told, newest first; mark one or all read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_filters.views import FilterView

from accounts.models.notifications import Notification
from accounts.next_url import safe_next
from accounts.notifications import NotificationFilterSet, notification_for, notifications_for
from accounts.notify import notification_mark_read, notifications_mark_all_read
from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied


class NotificationsView(LoginRequiredMixin, FilterView):
    template_name = "accounts/notifications.html"
    filterset_class = NotificationFilterSet
    paginate_by = StandardPagination.page_size  # as the API's pages

    def get_queryset(self):
        return notifications_for(user=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filtered"] = filters_applied(context["filter"])
        return context


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, default=reverse("notifications:list")))


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        notification = notification_for(user=request.user, pk=notification_id)
    except Notification.DoesNotExist as exc:
        raise Http404("No such notification.") from exc
    notification_mark_read(user=request.user, notification=notification)
    if request.POST.get("open") and notification.link.startswith("/"):
        return redirect(notification.link)
    return _back(request)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    changed = notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {changed} notification{'s' if changed != 1 else ''} read.")
    return _back(request)
