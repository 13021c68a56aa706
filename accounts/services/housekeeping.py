"""Clearing out what has expired: one-time codes, ended sessions' rows, dead JWT records."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import EmailVerificationCode, SMSChallenge, TOTPDevice

KEEP_FOR = timedelta(days=1)  # used/expired codes stay a day for support questions


def accounts_expired_purge() -> dict[str, int]:
    cutoff = timezone.now() - KEEP_FOR
    return {
        "sms_challenges": SMSChallenge.objects.filter(expires_at__lt=cutoff).delete()[0],
        "email_codes": EmailVerificationCode.objects.filter(expires_at__lt=cutoff).delete()[0],
        # Authenticator set-ups never finished: their seeds should not linger.
        "pending_authenticators": TOTPDevice.objects.filter(
            confirmed=False, created_at__lt=timezone.now() - timedelta(minutes=TOTPDevice.PENDING_MINUTES)
        ).delete()[0],
        # Expired refresh tokens cannot be used anyway; their blacklist rows go with them (cascade).
        "jwt_tokens": OutstandingToken.objects.filter(expires_at__lt=timezone.now()).delete()[0],
    }
