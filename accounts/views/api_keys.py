"""Personal API keys: listed freely, created only with 2FA on and a fresh step-up, shown once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import ApiKeyCreateForm
from accounts.gates import sensitive_page
from accounts.models import ApiKey
from accounts.services.api_keys import api_key_create, api_key_revoke
from accounts.views.common import add_domain_error, add_validation_error
from cryptovault.errors import DomainError

NEW_KEY_SESSION_KEY = "cv_new_api_key"


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    new_key = request.session.pop(NEW_KEY_SESSION_KEY, None)  # shown on this one page view only
    keys = ApiKey.objects.visible_to(request.user).order_by("-created_at")
    return render(request, "accounts/api_keys.html", {"keys": keys, "new_key": new_key})


@login_required
@sensitive_page()
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiKeyCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key, raw_key = api_key_create(
                request=request,
                user=request.user,
                name=data["name"],
                scopes=data["scopes"],
                allowed_ips=data["allowed_ips"],
                expires_at=data["expires_at"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            request.session[NEW_KEY_SESSION_KEY] = {"name": key.name, "key": raw_key}
            return redirect("accounts:api_keys")
    return render(request, "accounts/api_key_create.html", {"form": form})


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    try:
        key = api_key_revoke(request=request, user=request.user, key_id=key_id)
    except ApiKey.DoesNotExist as exc:
        raise Http404("No such API key.") from exc
    messages.success(request, f"The key “{key.name}” is revoked; requests using it are refused from now on.")
    return redirect("accounts:api_keys")
