"""The orders pages: open orders (/orders/), the history with its filters (/orders/history/), one
order with its fills and who runs it (/orders/<pk>/), and cancelling after a confirmation.

Every order is read through the selectors, so another user's order is not found (404) on every page.
The open-orders table is a region static/js/trade.js has htmx fetch again when an order event
(placed, filled, cancelled, rejected, expired) arrives on /ws/events.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods
from django_filters.views import FilterView

from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied, page_actor, submit
from exchanges.catalogue import exchange_spec
from trading.filters import OrderFilterSet
from trading.models import Execution, Order
from trading.selectors import open_orders_for, order_for, orders_for
from trading.services.live import native_form
from trading.services.orders import order_cancel


def owned_order(request: HttpRequest, pk: int) -> Order:
    try:
        return order_for(request.user, pk)
    except Order.DoesNotExist:
        raise Http404("No such order.") from None


def exchange_name(order: Order) -> str:
    connection = order.account.connection
    if connection is None:
        return "the exchange"
    return exchange_spec(connection.exchange).name


def execution_text(order: Order) -> str:
    """Who runs the order, in words (the issue asks the page to say which types are native and which
    are emulated): the paper engine, the exchange itself, or CryptoVault until the trigger."""
    if order.execution == Execution.PAPER:
        return "Paper engine: CryptoVault fills it against the market price with virtual money."
    exchange = exchange_name(order)
    if order.execution == Execution.NATIVE:
        return f"Sent to {exchange} as a {order.get_type_display().lower()} order."
    sent_as, _ = native_form(order)
    return (
        f"Held by CryptoVault until triggered, then sent to {exchange} as a {sent_as} order: on exchange accounts "
        f"CryptoVault watches the price for {order.get_type_display().lower()} orders itself."
    )


@login_required
@require_GET
def open_orders(request: HttpRequest) -> HttpResponse:
    orders = list(open_orders_for(request.user))
    return render(request, "trading/orders.html", {"orders": orders})


class OrderHistoryView(LoginRequiredMixin, FilterView):
    filterset_class = OrderFilterSet
    template_name = "trading/order_history.html"
    paginate_by = StandardPagination.page_size

    def get_queryset(self):
        return orders_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filtered"] = filters_applied(context["filter"])
        return context


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = owned_order(request, pk)
    siblings = []
    if order.oco_group:
        siblings = list(orders_for(request.user).filter(oco_group=order.oco_group).exclude(pk=order.pk))
    context = {
        "order": order,
        "fills": list(order.fills.all()),
        "siblings": siblings,
        "execution": execution_text(order),
    }
    return render(request, "trading/order_detail.html", context)


def _back(request: HttpRequest, fallback: str) -> str:
    """Where to go after cancelling: the page the cancel was asked from, when it is this site's."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (an order that filled meanwhile says so on the page)."""
    order = owned_order(request, pk)
    holder = forms.Form(request.POST if request.method == "POST" else None)
    cancelled = submit(request, holder, lambda _data: order_cancel(actor=page_actor(request), order=order))
    if cancelled.done:
        both = " and its other leg (one cancels the other)" if order.oco_group else ""
        messages.success(request, f"Order cancelled: {order.get_side_display().lower()} {order.symbol}{both}.")
        return redirect(_back(request, "trading:orders"))
    if request.method == "POST":
        order.refresh_from_db()
    context = {"form": holder, "order": order, "next": _back(request, ""), "execution": execution_text(order)}
    return render(request, "trading/order_cancel.html", context)
