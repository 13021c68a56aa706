"""Second factors, as django-otp devices so `django_otp.devices_for_user` and
`user.is_verified()` work across all of them.

django-otp's own TOTP and static devices keep seeds and codes in clear (django-otp#67), so
these keep the TOTP seed encrypted (security.crypto) and recovery and SMS codes only as digests.
"""

from __future__ import annotations

import re
import secrets
import time
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from accounts.codes import normalise_typed_code, token_digest
from cryptovault.access import OwnedQuerySet
from security.crypto import EncryptedTextField

# django-otp's manager (devices_for_user) with the project's read gate.
OwnedDeviceManager = DeviceManager.from_queryset(OwnedQuerySet)


class DeviceOwnedQuerySet(OwnedQuerySet):
    owner_field = "device__user"


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app. Confirmed only after the user typed a valid code from it; an
    unconfirmed one expires after PENDING_MINUTES, so a forgotten set-up leaves no usable seed."""

    PENDING_MINUTES = 15

    key = EncryptedTextField(help_text="Hex seed, encrypted at rest.")
    step = 30
    digits = 6
    tolerance = 1
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1, help_text="Time step of the last accepted code: no replay.")

    objects = OwnedDeviceManager()

    class Meta(Device.Meta):
        verbose_name = "TOTP device"

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(20)

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    @property
    def manual_key(self) -> str:
        """The base32 secret people type into an authenticator app by hand."""
        return b32encode(self.bin_key).decode()

    @property
    def provisioning_uri(self) -> str:
        issuer = settings.SITE_NAME
        label = quote(f"{issuer}:{self.user.email}")
        params = {"secret": self.manual_key, "issuer": issuer, "digits": self.digits, "period": self.step}
        return f"otpauth://totp/{label}?{urlencode(params)}"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token) -> bool:
        """Accept a current code once. The row is locked, so two requests cannot both use it."""
        token = normalise_typed_code(str(token))
        if not re.fullmatch(rf"[0-9]{{{self.digits}}}", token):  # ASCII only: "¹²³".isdigit() is True
            return False
        with transaction.atomic():
            device = type(self).objects.select_for_update().get(pk=self.pk)
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                return False
            totp = TOTP(device.bin_key, device.step, 0, device.digits, device.drift)
            totp.time = time.time()
            if totp.verify(int(token), device.tolerance, device.last_t + 1):
                device.last_t = totp.t()
                device.drift = totp.drift
                device.throttling_failure_timestamp = None
                device.throttling_failure_count = 0
                device.save(
                    update_fields=["last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count"]
                )
                self.refresh_from_db()
                return True
            device.throttle_increment()
            self.refresh_from_db()
            return False


class RecoveryCodeDevice(Device):
    """Ten one-time codes for when the phone is lost."""

    objects = OwnedDeviceManager()

    class Meta(Device.Meta):
        verbose_name = "recovery code set"

    def verify_token(self, token) -> bool:
        """Claim an unused code with one conditional UPDATE: used once, even under a race."""
        digest = token_digest(normalise_typed_code(str(token)))
        return self.codes.filter(code_digest=digest, used_at__isnull=True).update(used_at=timezone.now()) == 1

    @property
    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = DeviceOwnedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "code_digest"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"Recovery code ({'used' if self.used_at else 'unused'})"


class SMSDevice(ThrottlingMixin, Device):
    """A phone receiving codes by SMS. Confirmed once a code sent to it came back."""

    number = models.CharField(max_length=16, help_text="E.164")

    objects = OwnedDeviceManager()

    class Meta(Device.Meta):
        verbose_name = "SMS device"

    def get_throttle_factor(self) -> int:
        return 1

    @property
    def masked_number(self) -> str:
        return f"{self.number[:3]}•••{self.number[-2:]}" if len(self.number) > 5 else "•••"

    def verify_token(self, token) -> bool:
        """SMS codes are checked through `SMSChallenge.claim`, which needs the challenge id."""
        return False


class SMSChallenge(models.Model):
    """One SMS code, valid for SMS_CODE_VALID_SECONDS, for the one request (challenge id) that asked for it."""

    class Purpose(models.TextChoices):
        LOGIN = "login", "Sign-in"
        STEP_UP = "step_up", "Confirm a sensitive action"
        VERIFY_PHONE = "verify_phone", "Verify a phone number"

    device = models.ForeignKey(SMSDevice, on_delete=models.CASCADE, related_name="challenges")
    number = models.CharField(max_length=16, help_text="Where the text went (for the hourly cap per number).")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    challenge_digest = models.CharField(max_length=64, unique=True)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    MAX_ATTEMPTS = 5

    objects = DeviceOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} code for {self.device.masked_number}"
