"""The connections page and what a card offers: edit, test now, rotate keys, revoke.

The list is a FilterView over the selector with the FilterSet the API uses, as the activity
page is. Each card's latency history comes with the list in one extra query (a window-limited
prefetch of the newest checks), so the page costs the same for one card or fifty.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_filters.views import FilterView

from cryptovault.api.pagination import StandardPagination
from cryptovault.pages import filters_applied, page_actor, submit
from cryptovault.ratelimits import rate_limited
from exchanges.catalogue import exchange_spec
from exchanges.errors import ConnectionTestFailed
from exchanges.filters import ExchangeConnectionFilterSet
from exchanges.forms import ConnectionEditForm, RotateForm
from exchanges.guides import code_help
from exchanges.models import ExchangeConnection, Status
from exchanges.selectors import connections_with_history
from exchanges.services.connections import connection_revoke, connection_update
from exchanges.services.health import connection_check
from exchanges.services.keys import connection_rotate
from exchanges.views.common import asks_for_code, flash_key_warnings, owned_connection, posted, sensitive_get
from exchanges.views.display import connection_card


def _card_url(connection: ExchangeConnection) -> str:
    return f"{reverse('exchanges:connections')}#connection-{connection.pk}"


class ConnectionsView(LoginRequiredMixin, FilterView):
    filterset_class = ExchangeConnectionFilterSet
    template_name = "exchanges/connections.html"
    paginate_by = StandardPagination.page_size

    def show_revoked(self) -> bool:
        return self.request.GET.get("revoked") == "1" or self.request.GET.get("status") == Status.REVOKED

    def get_queryset(self):
        return connections_with_history(user=self.request.user, include_revoked=self.show_revoked())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        context["cards"] = [
            connection_card(connection, list(reversed(connection.recent_checks)))
            for connection in context["object_list"]
        ]
        context["show_revoked"] = self.show_revoked()
        context["filtered"] = context["show_revoked"] or filters_applied(filterset)
        return context


@login_required
@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    connection = owned_connection(request, pk)
    form = ConnectionEditForm(
        posted(request), initial={"nickname": connection.nickname, "features": connection.features}
    )
    updated = submit(
        request,
        form,
        lambda data: connection_update(
            actor=page_actor(request), connection=connection, nickname=data["nickname"], features=data["features"]
        ),
    )
    if updated.done:
        messages.success(request, f"Saved “{connection.nickname}”.")
        return redirect(_card_url(connection))
    context = {"form": form, "connection": connection, "spec": exchange_spec(connection.exchange)}
    return render(request, "exchanges/connection_edit.html", context)


@login_required
@require_POST
@rate_limited("connection_test")
def connection_test_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Test the stored keys now; the answer (code and message) comes back as a flash on the card's page."""
    connection = owned_connection(request, pk)
    holder = forms.Form(posted(request))
    checked = submit(request, holder, lambda _data: connection_check(actor=page_actor(request), connection=connection))
    if not checked.done:
        for error in holder.non_field_errors():
            messages.error(request, error)
        return redirect(_card_url(connection))
    result = checked.result
    latency = f" ({result.latency_ms} ms)" if result.latency_ms is not None else ""
    said = f"“{connection.nickname}” test result {result.code}{latency}: {result.message}"
    if result.ok:
        messages.success(request, said)
    else:
        messages.error(request, f"{said} How to fix it: {code_help(connection.exchange, result.code).fix}")
    return redirect(_card_url(connection))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("connection_test")
def connection_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _rotate(request, owned_connection(request, pk))  # found (or 404) before any gate redirects


@sensitive_get
def _rotate(request: HttpRequest, connection: ExchangeConnection) -> HttpResponse:
    spec = exchange_spec(connection.exchange)
    form = RotateForm(posted(request), spec=spec, needs_code="otp_code" in request.POST)
    failed: list[ConnectionTestFailed] = []

    def rotate(data: dict):
        try:
            return connection_rotate(
                actor=page_actor(request),
                connection=connection,
                api_key=data.get("api_key", ""),
                secret=data.get("secret", ""),
                passphrase=data.get("passphrase", ""),
                otp_code=data.get("otp_code", ""),
            )
        except ConnectionTestFailed as exc:
            failed.append(exc)
            raise

    old_hint = connection.key_hint
    rotated = submit(request, form, asks_for_code(form, rotate))
    if rotated.done:
        messages.success(
            request,
            f"The new key …{connection.key_hint} passed the test and replaced …{old_hint} for “{connection.nickname}”. "
            f"Delete the old key on {spec.name} now.",
        )
        flash_key_warnings(request, connection)
        return redirect(_card_url(connection))
    context = {
        "form": form,
        "connection": connection,
        "spec": spec,
        "help": code_help(spec.id, failed[0].test_code) if failed else None,
    }
    return render(request, "exchanges/connection_rotate.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def connection_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    connection = owned_connection(request, pk)
    spec = exchange_spec(connection.exchange)
    holder = forms.Form(posted(request))
    revoked = submit(request, holder, lambda _data: connection_revoke(actor=page_actor(request), connection=connection))
    if revoked.done:
        messages.success(
            request,
            f"Revoked “{connection.nickname}”: its keys are deleted here. Also delete the key …{connection.key_hint} "
            f"on {spec.name}; only you can.",
        )
        return redirect("exchanges:connections")
    return render(request, "exchanges/connection_revoke.html", {"form": holder, "connection": connection, "spec": spec})
