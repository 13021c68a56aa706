"""Accounts models, one module per subdomain."""

from accounts.models.api_keys import ApiKey, ApiKeyScope
from accounts.models.devices import RecoveryCode, RecoveryCodeDevice, SMSChallenge, SMSDevice, TOTPDevice
from accounts.models.notifications import (
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationPriority,
)
from accounts.models.preferences import NotificationChannel, NotificationPreference
from accounts.models.user import User, UserManager, phone_number_validator
from accounts.models.verification import EmailVerificationCode

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "DeliveryStatus",
    "EmailVerificationCode",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationPriority",
    "RecoveryCode",
    "RecoveryCodeDevice",
    "SMSChallenge",
    "SMSDevice",
    "TOTPDevice",
    "User",
    "UserManager",
    "phone_number_validator",
]
