"""allauth, wired to our services: our verification email, our second-factor stage, audit."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context

from cryptovault.clientip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        return client_ip(request)

    def get_login_stages(self) -> list[str]:
        # After email verification (optional here) comes the second factor, before any session.
        return [*super().get_login_stages(), "accounts.stages.SecondFactorStage"]

    def send_confirmation_mail(self, request, emailconfirmation, signup) -> None:
        """One email with both the 6-digit code and the link (allauth sends only one of them)."""
        from accounts.services.verification import email_verification_send

        email_verification_send(request=request, user=emailconfirmation.email_address.user)

    def confirm_email(self, request, email_address) -> bool:
        from accounts.services.verification import email_verified

        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            email_verified(request=request, user=email_address.user, method="link")
        return confirmed

    def save_user(self, request, user, form, commit=True):
        from security.audit import audit_record

        user.name = form.cleaned_data.get("name", "")  # the sign-up form's extra field, saved with the user
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            audit_record("account.signed_up", request=request, user=user, via="page")
        return user

    def set_password(self, user, password) -> None:
        """Password changes and resets both come here: other sessions and tokens end."""
        from accounts.services.sessions import credentials_changed
        from security.audit import audit_record

        super().set_password(user, password)
        request = context.request
        audit_record("auth.password_changed", request=request, user=user)
        credentials_changed(request=request if getattr(request, "user", None) == user else None, user=user)
