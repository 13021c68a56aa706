"""/security/withdrawal-addresses/: the withdrawal whitelist page.

One page lists the addresses (usable, or cooling down until when), adds one (asset, then the
network it travels on, memo where the chain has one, and a code from the second factor), and
switches whitelist-only mode. Removing asks for confirmation and a code on a page of its own.
Every write is one service call (`security.services.whitelist`) through `cryptovault.pages.submit`,
so bad input and a refused code come back as form errors, never a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.gates import second_factor_errors_on_code_field
from accounts.selectors import two_factor_enabled
from cryptovault.pages import page_actor, submit
from security.addresses.networks import ASSETS, NETWORKS, Network
from security.selectors import (
    local_moment,
    whitelist_only_turns_off_at,
    withdrawal_addresses_for,
)
from security.services.whitelist import whitelist_mode_set, withdrawal_address_add, withdrawal_address_remove

CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off", "spellcheck": "false"}
CODE_HELP = "From your authenticator app or text message, or a recovery code."


def _code_field() -> forms.CharField:
    return forms.CharField(
        label="Two-factor code",
        max_length=20,
        required=False,
        help_text=CODE_HELP,
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )


class NetworkSelect(forms.Select):
    """One option per asset/network pair, tagged with its asset and memo rule, so the page's script
    offers only the chosen asset's networks and shows the memo field where the chain has one."""

    def __init__(self, networks: list[Network], attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.networks = networks

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if 0 < index <= len(self.networks):  # option 0 is "Choose…"
            row = self.networks[index - 1]
            option["attrs"].update({"data-asset": row.asset, "data-memo": row.memo, "data-memo-name": row.memo_name})
        return option


class WithdrawalAddressForm(forms.Form):
    asset = forms.ChoiceField(choices=[("", "Choose…"), *((asset, asset) for asset in ASSETS)])
    network = forms.ChoiceField(help_text="The chain the withdrawal travels on: it must be the address's own.")
    address = forms.CharField(
        max_length=128, widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
    )
    memo = forms.CharField(
        label="Memo or destination tag",
        max_length=64,
        required=False,
        help_text="Only for networks that use one (XRP's destination tag); exchange deposit addresses often need it.",
    )
    label = forms.CharField(max_length=80, help_text="A name for you to recognise it, e.g. “Ledger savings”.")
    otp_code = _code_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        networks = list(NETWORKS.values())
        field = self.fields["network"]
        field.choices = [("", "Choose…"), *((row.key, f"{row.name} ({row.code})") for row in networks)]
        field.widget = NetworkSelect(networks)
        field.widget.choices = field.choices

    def clean_network(self) -> str:
        """`USDT/TRX` (one option per asset and chain) → `TRX`: the asset comes from its own field."""
        return self.cleaned_data["network"].partition("/")[2]


class RemoveForm(forms.Form):
    confirm = forms.BooleanField(label="Yes, remove this address from my whitelist.")
    otp_code = _code_field()


class ModeForm(forms.Form):
    whitelist_only = forms.TypedChoiceField(
        choices=[("on", "On"), ("off", "Off")], coerce=lambda value: value == "on", widget=forms.HiddenInput
    )
    otp_code = _code_field()


MODE_VALUE_INVALID = (
    "That was not a choice of on or off for whitelist-only withdrawals, so nothing changed. Use the button below."
)


def _mode_form(user) -> ModeForm:
    """The mode form offering the switch to the other state (its hidden value is what the button sends)."""
    return ModeForm(initial={"whitelist_only": "off" if user.withdrawal_whitelist_only else "on"})


def _page(request: HttpRequest, *, add_form: WithdrawalAddressForm | None = None, mode_form: ModeForm | None = None):
    now = timezone.now()
    turns_off_at = whitelist_only_turns_off_at(request.user, now)
    addresses = list(withdrawal_addresses_for(user=request.user))
    rows = [
        {
            "address": address,
            "usable": address.usable_at(now),
            "usable_from_local": local_moment(address.usable_from, request.user),
        }
        for address in addresses
    ]
    return render(
        request,
        "security/withdrawal_addresses.html",
        {
            "rows": rows,
            "form": add_form or WithdrawalAddressForm(),
            "mode_form": mode_form or _mode_form(request.user),
            "turns_off_at": turns_off_at and local_moment(turns_off_at, request.user),
            "two_factor": two_factor_enabled(request.user),
            "now": now,
            "cooldown_hours": settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def withdrawal_addresses(request: HttpRequest) -> HttpResponse:
    """The list, and the add form posting back here."""
    if request.method != "POST":
        return _page(request)
    form = WithdrawalAddressForm(request.POST)
    added = submit(
        request,
        form,
        second_factor_errors_on_code_field(
            lambda data: withdrawal_address_add(
                actor=page_actor(request),
                asset=data["asset"],
                network=data["network"],
                address=data["address"],
                memo=data["memo"],
                label=data["label"],
                otp_code=data["otp_code"],
            )
        ),
    )
    if added.done and added.result is not None:
        address = added.result
        messages.success(
            request,
            f"“{address.label}” is on your whitelist. Withdrawals can use it from "
            f"{local_moment(address.usable_from, request.user)}.",
        )
        return redirect("security:withdrawal_addresses")
    return _page(request, add_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def withdrawal_address_remove_view(request: HttpRequest, address_id: int) -> HttpResponse:
    """Asks for confirmation and a code; another user's address is not found."""
    address = get_object_or_404(withdrawal_addresses_for(user=request.user), pk=address_id)
    form = RemoveForm(request.POST if request.method == "POST" else None)
    removed = submit(
        request,
        form,
        second_factor_errors_on_code_field(
            lambda data: withdrawal_address_remove(
                actor=page_actor(request), address=address, otp_code=data["otp_code"]
            )
        ),
    )
    if removed.done:
        messages.success(request, f"“{address.label}” is no longer on your withdrawal whitelist.")
        return redirect("security:withdrawal_addresses")
    return render(
        request,
        "security/withdrawal_addresses_remove.html",
        {"address": address, "form": form, "two_factor": two_factor_enabled(request.user)},
    )


@login_required
@require_POST
def whitelist_mode_view(request: HttpRequest) -> HttpResponse:
    form = ModeForm(request.POST)
    changed = submit(
        request,
        form,
        second_factor_errors_on_code_field(
            lambda data: whitelist_mode_set(
                actor=page_actor(request), whitelist_only=data["whitelist_only"], otp_code=data["otp_code"]
            )
        ),
    )
    if changed.done:
        turns_off_at = whitelist_only_turns_off_at(request.user, timezone.now())
        if request.user.withdrawal_whitelist_only:
            messages.success(
                request, "Whitelist-only withdrawals are on: withdrawals go only to addresses listed here."
            )
        elif turns_off_at is not None:
            messages.warning(
                request,
                f"Whitelist-only withdrawals stay on until {local_moment(turns_off_at, request.user)} "
                f"({settings.WITHDRAWAL_ADDRESS_COOLDOWN_HOURS} hours, as for a new address); from then withdrawals "
                "may go to any valid address. Turn it back on before then and nothing changes.",
            )
        else:
            messages.warning(request, "Whitelist-only withdrawals are off: withdrawals may go to any valid address.")
        return redirect("security:withdrawal_addresses")
    if "whitelist_only" in form.errors:
        # A hidden field: its own error would not show, and the bad value would stay in the form, so the
        # button would send it again. Said above the form, whose button sends a valid value again.
        form.data = form.data.copy()
        form.data["whitelist_only"] = _mode_form(request.user).initial["whitelist_only"]
        form.add_error(None, MODE_VALUE_INVALID)
    return _page(request, mode_form=form)
