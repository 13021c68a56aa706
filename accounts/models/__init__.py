"""Accounts models, one module per subdomain."""

from accounts.models.api_keys import ApiKey, ApiKeyScope
from accounts.models.devices import RecoveryCode, RecoveryCodeDevice, SMSChallenge, SMSDevice, TOTPDevice
from accounts.models.preferences import NotificationChannel, NotificationPreference
from accounts.models.user import User, UserManager, phone_number_validator
from accounts.models.verification import EmailVerificationCode

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "EmailVerificationCode",
    "NotificationChannel",
    "NotificationPreference",
    "RecoveryCode",
    "RecoveryCodeDevice",
    "SMSChallenge",
    "SMSDevice",
    "TOTPDevice",
    "User",
    "UserManager",
    "phone_number_validator",
]
