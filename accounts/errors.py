"""What can go wrong in an account flow, worded for the person who hit it."""

from __future__ import annotations

from cryptovault.errors import DomainError, NotPermitted


class InvalidCredentials(DomainError):
    status_code = 401
    code = "invalid_credentials"
    default_message = "The email address or password is not right."


class InvalidCode(DomainError):
    code = "invalid_code"
    default_message = "That code is not valid. Check it and try again, or ask for a new one."


class SecondFactorRequired(DomainError):
    """Sign-in needs the code from the user's second factor."""

    status_code = 401
    code = "otp_required"
    default_message = "Two-factor authentication is on for this account: enter a code from your authenticator."


class EmailNotVerified(NotPermitted):
    code = "email_not_verified"
    default_message = "Verify your email address first: enter the code we sent you, or follow the link in it."


class TwoFactorSetupRequired(NotPermitted):
    code = "two_factor_required"
    default_message = "Turn on two-factor authentication first: this action needs it."


class StepUpRequired(NotPermitted):
    code = "step_up_required"
    default_message = "Confirm it is you: enter a current code from your second factor (otp_code)."


class SMSLimitReached(DomainError):
    status_code = 429
    code = "sms_limit_reached"
    default_message = (
        "Too many text messages were sent recently. Try again in an hour, or use your authenticator app "
        "or a recovery code."
    )


class SMSUnavailable(DomainError):
    status_code = 503
    code = "sms_unavailable"
    default_message = "The text message could not be sent. Try again in a minute."


class AccountLocked(DomainError):
    """django-axes locked this account for this client. AxesMiddleware answers the same 429
    (accounts.lockout) for pages; the API raises this so the view stops right there."""

    status_code = 429
    code = "account_locked"

    def __init__(self) -> None:
        from accounts.lockout import lockout_message, lockout_seconds  # it renders pages; errors stay plain

        super().__init__(lockout_message())
        self.headers = {"Retry-After": str(lockout_seconds())}


class TwoFactorAlreadyOff(DomainError):
    code = "two_factor_off"
    default_message = "Two-factor authentication is already off."
