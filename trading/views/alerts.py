"""The price alerts pages, under /alerts/: the list with its filters and the new-alert form, and the
cancel confirmation.

The list is a FilterView over the selector with the FilterSet the API uses, as the activity page
is; the form on the same page posts to it and goes through `cryptovault.pages.submit`, so a
refused alert (unknown market, threshold out of bounds, too many alerts) is shown on the form.
Another user's alert is not found (404) on every page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_filters.views import FilterView

from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied, page_actor, submit
from trading.filters import PriceAlertFilterSet, symbol_choices
from trading.models import NOTE_MAX_LENGTH, AlertKind, PriceAlert
from trading.selectors import alert_for, alerts_for
from trading.services.alerts import alert_cancel, alert_create


class AlertForm(forms.Form):
    """Shapes the input; what makes an alert acceptable (bounds, printable note) is the model's."""

    symbol = forms.ChoiceField(label="Market", choices=symbol_choices)
    kind = forms.ChoiceField(label="When", choices=AlertKind.choices)
    threshold = forms.DecimalField(
        label="Threshold",
        max_digits=38,
        decimal_places=18,
        help_text="A price in USDT, or a percentage for the 24 h change kinds (5 means 5%).",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text=f"Optional, up to {NOTE_MAX_LENGTH} characters: it comes with the notification.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the filter form on the same page has fields named `symbol` and `kind` too.
        kwargs.setdefault("auto_id", "new_alert_%s")
        super().__init__(*args, **kwargs)


def owned_alert(request: HttpRequest, pk: int) -> PriceAlert:
    try:
        return alert_for(user=request.user, pk=pk)
    except PriceAlert.DoesNotExist:
        raise Http404("No such alert.") from None


class AlertsView(LoginRequiredMixin, FilterView):
    filterset_class = PriceAlertFilterSet
    template_name = "trading/alerts.html"
    paginate_by = StandardPagination.page_size
    form: AlertForm | None = None

    def get_queryset(self):
        return alerts_for(user=self.request.user)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AlertForm(request.POST)
        created = submit(request, form, lambda data: alert_create(actor=page_actor(request), user=request.user, **data))
        if created.done and created.result is not None:
            messages.success(request, f"Alert set: {created.result.condition_text}. We tell you once it is reached.")
            return redirect("trading:alerts")
        self.form = form
        return self.get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        context["form"] = self.form or AlertForm()
        context["filtered"] = filters_applied(filterset)
        return context


@login_required
@require_http_methods(["GET", "POST"])
def alert_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (an alert that fired meanwhile says so on the page)."""
    alert = owned_alert(request, pk)
    holder = forms.Form(request.POST if request.method == "POST" else None)
    cancelled = submit(request, holder, lambda _data: alert_cancel(actor=page_actor(request), alert=alert))
    if cancelled.done:
        messages.success(request, f"Alert cancelled: {alert.condition_text}.")
        return redirect("trading:alerts")
    return render(request, "trading/alert_cancel.html", {"form": holder, "alert": alert})
