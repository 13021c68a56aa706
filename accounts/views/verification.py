"""Verifying the email address by the 6-digit code (the link is allauth's confirm-email page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.forms import EmailCodeForm
from accounts.services.verification import email_verification_send, email_verify_by_code
from accounts.views.common import redirect_next, safe_next, with_next
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor, submit
from cryptovault.ratelimits import rate_limited


@login_required
@rate_limited("verify_email")
def verify_email(request: HttpRequest) -> HttpResponse:
    verified = request.user.email_verified
    form = EmailCodeForm(request.POST if request.method == "POST" and not verified else None)
    checked = submit(
        request,
        form,
        lambda data: email_verify_by_code(actor=page_actor(request), user=request.user, code=data["code"]),
    )
    if checked.done:
        messages.success(request, "Your email address is verified. Welcome aboard!")
        return redirect_next(request, "dashboard")
    context = {"form": form, "verified": verified, "next": safe_next(request)}
    return render(request, "accounts/verify_email.html", context)


@login_required
@require_POST
@rate_limited("resend_verification")
def resend_verification(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified:
        messages.info(request, "Your email address is already verified.")
        return redirect(with_next(reverse("accounts:verify_email"), safe_next(request)))
    try:
        email_verification_send(actor=page_actor(request), user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"We sent a new code and link to {request.user.email}. Earlier codes stop working.")
    return redirect(with_next(reverse("accounts:verify_email"), safe_next(request)))
