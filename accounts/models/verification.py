from __future__ import annotations

from django.conf import settings
from django.db import models

from cryptovault.access import OwnedQuerySet


class EmailVerificationCode(models.Model):
    """The 6-digit code in the verification email. Only its keyed digest is stored.

    A new code replaces the old one (resend), a code expires, and after MAX_ATTEMPTS wrong
    guesses it is void, so guessing a million values is not an option.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_codes")
    email = models.EmailField()
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    MAX_ATTEMPTS = 5

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Verification code for {self.email} ({'used' if self.used_at else 'pending'})"
