"""Sending SMS. Development prints each message to the log; production sends through Twilio,
or, without TWILIO_* settings, refuses to send (DisabledSMSBackend) rather than log codes.

Pick with SMS_BACKEND. A backend's `send` raises SMSDeliveryError when the message did not go out,
so the caller can tell the user instead of leaving them waiting for a code that never comes.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("accounts.sms")


class SMSDeliveryError(Exception):
    pass


class LoggingSMSBackend:
    """Development: never silent, the whole text (code included) goes to the log."""

    def send(self, *, to: str, body: str) -> str:
        # The code must be readable here, so this line bypasses nothing but says what it is.
        logger.warning("SMS to %s (development backend, not sent): %s", to, body)
        return "logged"


class DisabledSMSBackend:
    """Production without Twilio: SMS is off, and the user is told so instead of waiting."""

    def send(self, *, to: str, body: str) -> str:
        raise SMSDeliveryError(
            "Text messages are not set up on this server. Use an authenticator app, or ask the operator."
        )


class TwilioSMSBackend:
    """Twilio's Messages API through the official client."""

    def __init__(self) -> None:
        from twilio.rest import Client

        self.client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)
        if settings.TWILIO_API_BASE_URL:
            self.client.api.base_url = settings.TWILIO_API_BASE_URL

    def send(self, *, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioException

        try:
            message = self.client.messages.create(to=to, from_=settings.TWILIO_FROM_NUMBER, body=body)
        except (TwilioException, OSError) as exc:
            logger.error("SMS to %s failed: %s", to[:4] + "…", exc.__class__.__name__)
            raise SMSDeliveryError("The text message could not be sent. Try again in a minute.") from exc
        return message.sid


def sms_backend():
    return import_string(settings.SMS_BACKEND)()
