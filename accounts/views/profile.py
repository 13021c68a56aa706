"""The profile: name, time zone, the verified phone (changed on the Security page) and
which notifications arrive where."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import NotificationPreferencesForm, ProfileForm
from accounts.selectors import notification_preferences
from accounts.services.profile import notification_preferences_set, profile_update
from cryptovault.pages import page_actor, submit


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    section = request.POST.get("section") if request.method == "POST" else None
    profile_form = ProfileForm(
        request.POST if section == "profile" else None, initial={"name": user.name, "timezone": str(user.timezone)}
    )
    preferences_form = NotificationPreferencesForm(
        request.POST if section == "notifications" else None, preferences=notification_preferences(user=user)
    )
    if submit(request, profile_form, lambda data: profile_update(actor=page_actor(request), user=user, **data)).done:
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    saved = submit(
        request,
        preferences_form,
        lambda _: notification_preferences_set(
            actor=page_actor(request), user=user, preferences=preferences_form.preferences()
        ),
    )
    if saved.done:
        messages.success(request, "Your notification choices are saved.")
        return redirect("accounts:profile")
    context = {"profile_form": profile_form, "preferences_form": preferences_form}
    return render(request, "accounts/profile.html", context)
