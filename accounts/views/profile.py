"""The profile: name, time zone, the verified phone (changed on the Security page) and
which notifications arrive where."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import NotificationPreferencesForm, ProfileForm
from accounts.services.profile import notification_preferences, notification_preferences_set, profile_update
from accounts.views.common import add_domain_error, add_validation_error
from cryptovault.errors import DomainError


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    posted = request.POST if request.method == "POST" else None
    section = request.POST.get("section") if posted else None
    profile_form = ProfileForm(
        posted if section == "profile" else None, initial={"name": user.name, "timezone": str(user.timezone)}
    )
    preferences_form = NotificationPreferencesForm(
        posted if section == "notifications" else None, preferences=notification_preferences(user=user)
    )
    if section == "profile" and profile_form.is_valid():
        try:
            profile_update(request=request, user=user, **profile_form.cleaned_data)
        except DomainError as exc:
            add_domain_error(profile_form, exc)
        except ValidationError as exc:
            add_validation_error(profile_form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    if section == "notifications" and preferences_form.is_valid():
        try:
            notification_preferences_set(request=request, user=user, preferences=preferences_form.preferences())
        except DomainError as exc:
            add_domain_error(preferences_form, exc)
        else:
            messages.success(request, "Your notification choices are saved.")
            return redirect("accounts:profile")
    context = {"profile_form": profile_form, "preferences_form": preferences_form}
    return render(request, "accounts/profile.html", context)
