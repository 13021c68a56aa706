"""Email verification: a 6-digit code and a link in one email; either proves the address."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.codes import code_digest, numeric_code
from accounts.errors import InvalidCode
from accounts.models import EmailVerificationCode, User
from accounts.services.emails import send_account_email
from cryptovault.access import visible_to
from cryptovault.actor import Actor
from security.audit import audit_record


def _primary_address(user: User) -> EmailAddress:
    address = visible_to(EmailAddress.objects.all(), user).filter(email=user.email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return address


@transaction.atomic
def email_verification_send(*, actor: Actor, user: User) -> None:
    """A fresh code (the previous ones stop working) and a link, by email; a no-op once verified."""
    address = _primary_address(user)
    if address.verified:
        return
    code = numeric_code(6)
    EmailVerificationCode.objects.visible_to(user).filter(used_at__isnull=True).update(used_at=timezone.now())
    EmailVerificationCode.objects.create(
        user=user,
        email=user.email,
        code_digest=code_digest(code, salt=f"email:{user.pk}"),
        expires_at=timezone.now() + timedelta(minutes=settings.EMAIL_VERIFICATION_CODE_MINUTES),
    )
    confirmation = EmailConfirmationHMAC(address)
    link = actor.site_url + reverse("account_confirm_email", args=[confirmation.key])
    code_page = actor.site_url + reverse("accounts:verify_email")
    send_account_email(
        to=user.email,
        template="verify",
        context={
            "user": user,
            "code": code,
            "link": link,
            "code_page": code_page,
            "code_minutes": settings.EMAIL_VERIFICATION_CODE_MINUTES,
            "link_days": settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS,
        },
    )
    audit_record("email.verification_sent", actor=actor, user=user)


def email_verify_by_code(*, actor: Actor, user: User, code: str) -> None:
    """Check the code; five wrong tries void it (a new one must be sent)."""
    now = timezone.now()
    with transaction.atomic():
        pending = (
            EmailVerificationCode.objects.visible_to(user)
            .select_for_update()
            .filter(email=user.email, used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if pending is None:
            raise InvalidCode("That code has expired or was replaced. Ask for a new one.", field="code")
        if pending.code_digest != code_digest(code, salt=f"email:{user.pk}"):
            EmailVerificationCode.objects.filter(pk=pending.pk).update(attempts=F("attempts") + 1)
            if pending.attempts + 1 >= EmailVerificationCode.MAX_ATTEMPTS:
                EmailVerificationCode.objects.filter(pk=pending.pk).update(used_at=now)
        else:
            pending.used_at = now
            pending.save(update_fields=["used_at"])
            address = _primary_address(user)
            address.verified = True
            address.save(update_fields=["verified"])
            email_verified(actor=actor, user=user, method="code")
            return
    audit_record("email.verification_failed", actor=actor, user=user, outcome="failure")
    raise InvalidCode(field="code")


def email_verify_by_key(*, actor: Actor, key: str) -> User:
    """The link's key (allauth's signed confirmation), from the API; the page is allauth's,
    whose adapter calls `email_verified` too."""
    confirmation = EmailConfirmationHMAC.from_key(key)
    if confirmation is None:
        raise InvalidCode("This verification link is invalid or has expired. Ask for a new one.", field="key")
    address = confirmation.email_address
    if not address.verified:
        with transaction.atomic():
            address.verified = True
            address.save(update_fields=["verified"])
            email_verified(actor=actor, user=address.user, method="link")
    return address.user


def email_verified(*, actor: Actor, user: User, method: str) -> None:
    """After either proof: void the outstanding codes, welcome the user, record it."""
    EmailVerificationCode.objects.visible_to(user).filter(used_at__isnull=True).update(used_at=timezone.now())
    send_account_email(to=user.email, template="welcome", context={"user": user})
    audit_record("email.verified", actor=actor, user=user, method=method)
