"""allauth, wired to our services: allauth runs the sign-up, sign-in, confirm-email and
password pages, and hands every decision with a rule behind it to the same services the API
calls (with the actor built from allauth's request)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context

from cryptovault.actor import Actor
from cryptovault.clientip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        return client_ip(request)

    def get_login_stages(self) -> list[str]:
        # After email verification (optional here) comes the second factor, before any session.
        return [*super().get_login_stages(), "accounts.stages.SecondFactorStage"]

    def save_user(self, request, user, form, commit=True):
        user.name = form.cleaned_data.get("name", "")  # the sign-up form's extra field, saved with the user
        return super().save_user(request, user, form, commit=commit)

    def send_confirmation_mail(self, request, emailconfirmation, signup) -> None:
        """One email with both the 6-digit code and the link (allauth sends only one of them).

        At sign-up allauth calls this once the account and its address exist: the moment the
        API's sign-up reaches too, so both go through `account_created` (audit and email).
        """
        from accounts.services.signup import account_created
        from accounts.services.verification import email_verification_send

        user = emailconfirmation.email_address.user
        if signup:
            account_created(actor=Actor.from_request_or_system(request), user=user)
        else:
            email_verification_send(actor=Actor.from_request_or_system(request), user=user)

    def confirm_email(self, request, email_address) -> bool:
        from accounts.services.verification import email_verified

        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            email_verified(actor=Actor.from_request_or_system(request), user=email_address.user, method="link")
        return confirmed

    def set_password(self, user, password) -> None:
        """Password changes and resets on allauth's pages: the same service as the API's."""
        from accounts.services.passwords import password_set

        request = context.request
        match = getattr(request, "resolver_match", None)
        # allauth sets passwords here from its change page and from a reset link alike.
        reset = match is not None and match.url_name == "account_reset_password_from_key"
        password_set(actor=Actor.from_request_or_system(request), user=user, password=password, reset=reset)
