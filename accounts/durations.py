"""Durations as people read them, from the settings that define them.

Messages, templates and the API description say "works for 10 minutes" or "ends after 12 hours";
each comes from here, so changing a setting changes every sentence that mentions it.
"""

from __future__ import annotations

from django.conf import settings


def in_words(seconds: int) -> str:
    """3600 → "1 hour", 600 → "10 minutes", 129600 → "36 hours", 90 → "90 seconds"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0 and not (unit == "day" and seconds < 2 * 86400):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def sms_code_lifetime() -> str:
    return in_words(settings.SMS_CODE_VALID_SECONDS)


def step_up_window() -> str:
    return in_words(settings.SECOND_FACTOR_STEP_UP_SECONDS)


def password_reset_link_lifetime() -> str:
    return in_words(settings.PASSWORD_RESET_TIMEOUT)


def session_absolute_lifetime() -> str:
    return in_words(settings.SESSION_ABSOLUTE_TIMEOUT)


def session_idle_lifetime() -> str:
    return in_words(settings.SESSION_IDLE_TIMEOUT)


def email_code_lifetime() -> str:
    return in_words(settings.EMAIL_VERIFICATION_CODE_MINUTES * 60)


def lockout_lifetime() -> str:
    return in_words(int(settings.AXES_COOLOFF_TIME.total_seconds()))


def context() -> dict[str, str]:
    """For templates (accounts.context_processors.account): {{ durations.sms_code }} and friends."""
    return {
        "sms_code": sms_code_lifetime(),
        "step_up": step_up_window(),
        "password_reset_link": password_reset_link_lifetime(),
        "session_absolute": session_absolute_lifetime(),
        "session_idle": session_idle_lifetime(),
        "email_code": email_code_lifetime(),
        "lockout": lockout_lifetime(),
    }
