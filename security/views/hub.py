"""The security hub (/security/): a user's protections at a glance, each linking to where it is managed,
and the anti-phishing code page (/security/anti-phishing/).

The hub says whether an anti-phishing code is set, never the code: the code shows only on its own page,
which asks for a fresh second factor first when 2FA is on (as changing it does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.selectors import two_factor_enabled
from accounts.views.common import step_up_if_two_factor
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited
from security.models import IpAllowlistEntry, WithdrawalAddress
from security.selectors import (
    ActivityRow,
    activity_rows,
    audit_events_for,
    local_moment,
    whitelist_only_in_force,
    whitelist_only_turns_off_at,
)
from security.services.anti_phishing import MAX_LENGTH, MIN_LENGTH, anti_phishing_code_set

RECENT_ACTIVITY = 5


@dataclass(frozen=True)
class SecurityOverview:
    two_factor: bool
    allowlist_entries: int
    withdrawal_addresses: int
    whitelist_only: bool
    whitelist_turns_off_at: str  # "" unless whitelist-only was turned off and still waits out the cooldown
    anti_phishing_set: bool
    recent: list[ActivityRow]


def security_overview(user: Any) -> SecurityOverview:
    """What the hub shows, each count read through its model's gate."""
    now = timezone.now()
    turns_off_at = whitelist_only_turns_off_at(user, now)
    return SecurityOverview(
        two_factor=two_factor_enabled(user),
        allowlist_entries=IpAllowlistEntry.objects.visible_to(user).count(),
        withdrawal_addresses=WithdrawalAddress.objects.visible_to(user).active().count(),
        whitelist_only=whitelist_only_in_force(user, now),
        whitelist_turns_off_at=local_moment(turns_off_at, user) if turns_off_at else "",
        anti_phishing_set=bool(user.anti_phishing_code),
        recent=activity_rows(audit_events_for(user=user)[:RECENT_ACTIVITY]),
    )


@login_required
def hub(request: HttpRequest) -> HttpResponse:
    return render(request, "security/hub.html", {"overview": security_overview(request.user)})


class AntiPhishingForm(forms.Form):
    """What the page posts: the code as typed (the service decides what is allowed), or "remove"."""

    code = forms.CharField(
        label="Anti-phishing code",
        required=False,
        strip=False,  # a space at either end is refused with a message, not silently dropped
        max_length=64,
        help_text=f"{MIN_LENGTH} to {MAX_LENGTH} characters; not your password or email address.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, removing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.removing = removing

    def clean_code(self) -> str:
        if self.removing:
            return ""
        code = self.cleaned_data.get("code", "")
        if not code:
            raise forms.ValidationError("Type the code you want in our emails, or remove the code.")
        return code


@login_required
@rate_limited("login")  # the service says when a code is the password: guarded like sign-in
@step_up_if_two_factor(back_to="security:anti_phishing")
def anti_phishing(request: HttpRequest) -> HttpResponse:
    removing = request.method == "POST" and "remove" in request.POST
    form = AntiPhishingForm(request.POST if request.method == "POST" else None, removing=removing)
    saved = submit(request, form, lambda data: anti_phishing_code_set(actor=page_actor(request), code=data["code"]))
    if saved.done:
        if removing:
            messages.success(request, "The anti-phishing code is removed: our emails no longer show one.")
        else:
            messages.success(request, "Saved. Every email we send you from now on shows your anti-phishing code.")
        return redirect("security:anti_phishing")
    return render(request, "security/anti_phishing.html", {"form": form, "code": request.user.anti_phishing_code})
