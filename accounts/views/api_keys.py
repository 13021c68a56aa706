"""Personal API keys: listed freely, created only with 2FA on and a fresh step-up, shown once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import ApiKeyCreateForm
from accounts.gates import sensitive_page
from accounts.models import ApiKey
from accounts.services.api_keys import api_key_create, api_key_revoke
from cryptovault.pages import page_actor, submit

NEW_KEY_SESSION_KEY = "cv_new_api_key"


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    new_key = request.session.pop(NEW_KEY_SESSION_KEY, None)  # shown on this one page view only
    keys = ApiKey.objects.visible_to(request.user).order_by("-created_at")
    return render(request, "accounts/api_keys.html", {"keys": keys, "new_key": new_key})


@login_required
@sensitive_page()
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None)
    created = submit(request, form, lambda data: api_key_create(actor=page_actor(request), user=request.user, **data))
    if created.done:
        key, raw_key = created.result
        request.session[NEW_KEY_SESSION_KEY] = {"name": key.name, "key": raw_key}
        return redirect("accounts:api_keys")
    return render(request, "accounts/api_key_create.html", {"form": form})


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    key = api_key_revoke(
        actor=page_actor(request), key=get_object_or_404(ApiKey.objects.visible_to(request.user), pk=key_id)
    )
    messages.success(request, f"The key “{key.name}” is revoked; requests using it are refused from now on.")
    return redirect("accounts:api_keys")
