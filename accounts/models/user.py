"""The CryptoVault user: identified by email, no username."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from timezone_field import TimeZoneField

# E.164: a plus, a country code and the subscriber number, nothing else (what Twilio accepts).
phone_number_validator = RegexValidator(
    r"^\+[1-9][0-9]{6,14}$", "Enter the number in international form, for example +447700900123."
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """Emails are stored lower-cased: one address, one account, whatever case is typed."""
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str | None) -> User:
        # Emails are stored lower-cased (a database constraint), so sign-in ignores case and
        # still uses the unique index.
        return self.get(email=self.normalize_email(email))


# The device models' default manager comes from django-otp, which has no type information, so
# the django-stubs plugin cannot type their reverse managers (user.totpdevice_set, ...).
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """A trader, a staff member or an integration's owner; signs in with an email address."""

    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the admin site.")
    is_active = models.BooleanField(default=True, help_text="Unset instead of deleting the account.")
    date_joined = models.DateTimeField(default=timezone.now)
    timezone = TimeZoneField(default="UTC", help_text="Times on pages and in emails are shown in this zone.")
    phone = models.CharField(
        max_length=16, blank=True, validators=[phone_number_validator], help_text="Set once verified by SMS."
    )
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the user deleted the account; the row stays for the audit log."
    )
    anti_phishing_code = models.CharField(
        max_length=32,
        blank=True,
        help_text="A phrase the user chose, shown in every email we send them so a forged one stands out.",
    )
    withdrawal_whitelist_only = models.BooleanField(
        default=True, help_text="Withdrawals go only to whitelisted addresses past their cooldown."
    )
    withdrawal_whitelist_off_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Whitelist-only, turned off, still applies until then (the address cooldown).",
    )
    auth_epoch = models.BigIntegerField(
        default=0,
        editable=False,
        help_text="Second factors last changed (µs since 1970): older access tokens stop working.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # Stored lower-cased, so `unique` above also means unique ignoring case, and an
            # address typed in another case can never become a second account.
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lower_case"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def save(self, *args, **kwargs) -> None:
        self.email = UserManager.normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def email_verified(self) -> bool:
        """Verified through allauth's EmailAddress (one query unless prefetched as `verified_emails`)."""
        from allauth.account.models import EmailAddress

        from cryptovault.access import visible_to

        prefetched = getattr(self, "verified_emails", None)
        if prefetched is not None:
            return any(address.email == self.email for address in prefetched)
        return visible_to(EmailAddress.objects.all(), self).filter(email=self.email, verified=True).exists()

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email
