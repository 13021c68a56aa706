"""The IP allowlist pages, under /security/allowlist/: the list, adding, removing.

Each change is one service call (`security.services.ip_allowlist`), behind `sensitive_page` (a
verified email, 2FA on and a fresh second factor, with a way there and back). A change that would
leave the address the user is on now outside the list comes back as a confirmation page showing
that address; confirming posts the same change with `confirm_lockout`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.gates import sensitive_page
from cryptovault.pages import page_actor, submit
from security.errors import WouldLockYouOut
from security.ip_allowlist import address_in
from security.models import IpAllowlistEntry
from security.services.ip_allowlist import MAX_IP_ALLOWLIST_ENTRIES, ip_allowlist_add, ip_allowlist_remove


class AllowlistAddForm(forms.Form):
    network = forms.CharField(
        label="Address or range",
        max_length=100,
        help_text="An IPv4 or IPv6 address (203.0.113.7, 2001:db8::7) or a CIDR range (203.0.113.0/24, 2001:db8::/48).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    label = forms.CharField(label="Label", max_length=80, required=False, help_text="E.g. home, office, VPN.")
    confirm_lockout = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ConfirmForm(forms.Form):
    confirm_lockout = forms.BooleanField(required=False, widget=forms.HiddenInput)


def _entries(request: HttpRequest):
    return IpAllowlistEntry.objects.visible_to(request.user).order_by("created_at", "id")


@login_required
@require_GET
def allowlist(request: HttpRequest) -> HttpResponse:
    entries = list(_entries(request))
    ip = page_actor(request).ip
    context = {
        "entries": entries,
        "current_ip": ip,
        "current_ip_allowed": not entries or address_in(ip, [entry.network for entry in entries]),
        "form": AllowlistAddForm(),
        "max_entries": MAX_IP_ALLOWLIST_ENTRIES,
    }
    return render(request, "security/allowlist.html", context)


def _lockout_or(action):
    """The service call, with a lockout warning returned (to confirm) instead of raised onto the form."""

    def call(data: dict):
        try:
            return action(data)
        except WouldLockYouOut as exc:
            return exc

    return call


@login_required
@require_http_methods(["GET", "POST"])
@sensitive_page()
def allowlist_add(request: HttpRequest) -> HttpResponse:
    form = AllowlistAddForm(request.POST if request.method == "POST" else None)
    added = submit(
        request,
        form,
        _lockout_or(
            lambda data: ip_allowlist_add(
                actor=page_actor(request),
                network=data["network"],
                label=data["label"],
                confirm_lockout=data["confirm_lockout"],
            )
        ),
    )
    if added.done and isinstance(added.result, WouldLockYouOut):
        context = {"warning": added.result.message, "current_ip": page_actor(request).ip, "form": form, "adding": True}
        return render(request, "security/allowlist_confirm.html", context)
    if added.done:
        messages.success(
            request,
            f"{added.result.network} is on your IP allowlist: protected actions are refused from any other address.",
        )
        return redirect("security:allowlist")
    return render(request, "security/allowlist_add.html", {"form": form, "current_ip": page_actor(request).ip})


@login_required
@require_http_methods(["GET", "POST"])
def allowlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _remove(request, get_object_or_404(_entries(request), pk=pk))  # found (or 404) before any gate redirects


@sensitive_page()
def _remove(request: HttpRequest, entry: IpAllowlistEntry) -> HttpResponse:
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    removed = submit(
        request,
        form,
        _lockout_or(
            lambda data: ip_allowlist_remove(
                actor=page_actor(request), entry=entry, confirm_lockout=data["confirm_lockout"]
            )
        ),
    )
    if removed.done and isinstance(removed.result, WouldLockYouOut):
        context = {"warning": removed.result.message, "current_ip": page_actor(request).ip, "entry": entry}
        return render(request, "security/allowlist_confirm.html", context)
    if removed.done:
        left = _entries(request).exists()
        messages.success(
            request,
            f"{entry.network} is off your IP allowlist."
            + ("" if left else " The list is empty: protected actions are allowed from every address again."),
        )
        return redirect("security:allowlist")
    return render(request, "security/allowlist_remove.html", {"form": form, "entry": entry})
