"""Second factors: TOTP, recovery codes and SMS; setting them up, using them, turning them off.

"Step-up" is a fresh proof: a sensitive action needs a second factor used within the last
SECOND_FACTOR_STEP_UP_SECONDS (accounts.gates). These services check codes and change devices;
where the proof is kept (a session stamp for pages, `otp_at` in a JWT) is the interface's
business (accounts.session_proof), so they run the same from a page, the API or a command.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.models import Device

from accounts.codes import code_digest, normalise_typed_code, numeric_code, token_digest
from accounts.errors import InvalidCode, SMSLimitReached, SMSUnavailable, TwoFactorAlreadyOff
from accounts.models import RecoveryCode, RecoveryCodeDevice, SMSChallenge, SMSDevice, TOTPDevice, User
from accounts.selectors import totp_pending, two_factor_enabled
from accounts.sms import SMSDeliveryError, sms_backend
from cryptovault.actor import Actor
from security.audit import audit_record

RECOVERY_CODE_COUNT = 10


class FactorTurnedOn(NamedTuple):
    """A confirmed second factor, and the recovery codes to show once if this turned 2FA on."""

    device: Device
    recovery_codes: list[str] | None


# --- state ------------------------------------------------------------------------------------


# --- TOTP set-up ------------------------------------------------------------------------------
@transaction.atomic
def totp_begin(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator seed; an earlier unconfirmed one is discarded."""
    TOTPDevice.objects.visible_to(user).filter(confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", key=TOTPDevice.new_key(), confirmed=False)


def totp_confirm(*, actor: Actor, user: User, code: str) -> FactorTurnedOn:
    """Turn the pending seed on with a valid code; new recovery codes if the user had none."""
    device = totp_pending(user=user)
    if device is None:
        raise InvalidCode("Start the set-up again: there is no authenticator waiting for a code.", field="code")
    if not device.verify_token(code):
        audit_record("2fa.totp_confirm_failed", actor=actor, user=user, outcome="failure")
        raise InvalidCode(
            "That code did not match. Check the time on your phone and try the newest code.", field="code"
        )
    with transaction.atomic():
        TOTPDevice.objects.visible_to(user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_if_none(user)
        _second_factor_changed(actor, user, "2fa.totp_enabled")
    return FactorTurnedOn(device, codes)


# --- recovery codes ---------------------------------------------------------------------------
def _new_recovery_code() -> str:
    raw = secrets.token_hex(5).upper()  # 40 bits, typed as XXXXX-XXXXX
    return f"{raw[:5]}-{raw[5:]}"


def _recovery_codes_replace(user: User) -> list[str]:
    """New codes on the same device row: a session verified with a recovery code stays verified
    (django-otp remembers the device by id)."""
    device, _ = RecoveryCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.codes.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_digest=token_digest(code.replace("-", ""))) for code in codes
    )
    return codes


def _recovery_codes_if_none(user: User) -> list[str] | None:
    """The first factor to turn 2FA on also brings recovery codes, for when the phone is lost."""
    if RecoveryCodeDevice.objects.visible_to(user).filter(confirmed=True).exists():
        return None
    return _recovery_codes_replace(user)


@transaction.atomic
def recovery_codes_regenerate(*, actor: Actor, user: User) -> list[str]:
    """Ten new codes, shown once; the old ones stop working."""
    codes = _recovery_codes_replace(user)
    audit_record("2fa.recovery_codes_regenerated", actor=actor, user=user)
    return codes


# --- SMS --------------------------------------------------------------------------------------
def _sms_budget_check(device: SMSDevice) -> None:
    """Texts cost money and can be aimed at strangers: a cap per account and per number, whatever
    the client IP (the per-IP rate limits alone let many addresses add up)."""
    since = timezone.now() - timedelta(hours=1)
    limit = settings.SMS_MAX_PER_HOUR
    recent = SMSChallenge.objects.filter(created_at__gte=since)
    if (
        recent.visible_to(device.user).count() >= limit
        # Every account's texts to this number count: a number is not anyone's to flood.
        or recent.filter(number=device.number).count() >= limit
    ):
        raise SMSLimitReached()


def _sms_send(*, device: SMSDevice, purpose: str) -> str:
    """Create a challenge and text its code; returns the challenge id the caller must send back."""
    _sms_budget_check(device)
    challenge_id = secrets.token_urlsafe(24)
    code = numeric_code(6)
    SMSChallenge.objects.create(
        device=device,
        number=device.number,
        purpose=purpose,
        challenge_digest=token_digest(challenge_id),
        code_digest=code_digest(code, salt=challenge_id),
        expires_at=timezone.now() + timedelta(seconds=settings.SMS_CODE_VALID_SECONDS),
    )
    body = f"{settings.SITE_NAME} code: {code}. It expires in {sms_code_minutes()} minutes. Never share it."
    try:
        sms_backend().send(to=device.number, body=body)
    except SMSDeliveryError as exc:
        raise SMSUnavailable(str(exc)) from exc
    return challenge_id


def sms_challenge_claim(*, user: User, challenge_id: str, code: str, purpose: str) -> SMSDevice | None:
    """The device whose unexpired, unused challenge `challenge_id` has this code, claimed once."""
    now = timezone.now()
    with transaction.atomic():
        challenge = (
            SMSChallenge.objects.visible_to(user)
            .select_for_update()
            .select_related("device")
            .filter(challenge_digest=token_digest(challenge_id or ""), purpose=purpose)
            .first()
        )
        if challenge is None or challenge.used_at or challenge.expires_at <= now:
            return None
        if challenge.attempts >= SMSChallenge.MAX_ATTEMPTS:
            return None
        if challenge.code_digest != code_digest(code, salt=challenge_id):
            SMSChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
            return None
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
        return challenge.device


def sms_code_minutes() -> int:
    """How long a texted code works, as people are told it (SMS_CODE_VALID_SECONDS)."""
    return settings.SMS_CODE_VALID_SECONDS // 60


def sms_phone_add(*, actor: Actor, user: User, number: str) -> str:
    """Text a code to a new number; it becomes a second factor once the code comes back."""
    with transaction.atomic():
        # The pending phone row is reused, not deleted, so its texts keep counting toward the cap.
        device = SMSDevice.objects.visible_to(user).filter(confirmed=False).first()
        if device is None:
            device = SMSDevice.objects.create(user=user, name="Phone", number=number, confirmed=False)
        elif device.number != number:
            # Codes texted to the previous number must not verify this one.
            device.challenges.filter(used_at__isnull=True).update(used_at=timezone.now())
            device.number = number
            device.save(update_fields=["number"])
    challenge_id = _sms_send(device=device, purpose=SMSChallenge.Purpose.VERIFY_PHONE)
    audit_record("2fa.phone_code_sent", actor=actor, user=user, phone=device.masked_number)
    return challenge_id


def sms_phone_confirm(*, actor: Actor, user: User, challenge_id: str, code: str) -> FactorTurnedOn:
    """Verify the phone with the code sent to it; new recovery codes if the user had none."""
    device = sms_challenge_claim(
        user=user, challenge_id=challenge_id, code=code, purpose=SMSChallenge.Purpose.VERIFY_PHONE
    )
    if device is None:
        raise InvalidCode("That code is wrong or has expired. Send a new one.", field="code")
    with transaction.atomic():
        SMSDevice.objects.visible_to(user).filter(confirmed=True).exclude(pk=device.pk).delete()
        SMSDevice.objects.filter(pk=device.pk).update(confirmed=True)
        User.objects.filter(pk=user.pk).update(phone=device.number, phone_verified_at=timezone.now())
        codes = _recovery_codes_if_none(user)
        _second_factor_changed(actor, user, "2fa.phone_verified")
    user.refresh_from_db(fields=["phone", "phone_verified_at"])
    return FactorTurnedOn(device, codes)


def sms_code_send(*, user: User, purpose: str) -> str:
    """Text a sign-in or step-up code to the user's verified phone; returns the challenge id."""
    device = SMSDevice.objects.visible_to(user).filter(confirmed=True).first()
    if device is None:
        raise InvalidCode("There is no verified phone on this account.", field="method")
    return _sms_send(device=device, purpose=purpose)


# --- using a second factor --------------------------------------------------------------------
def second_factor_verify(
    *, actor: Actor, user: User, code: str, challenge_id: str | None = None, purpose: str = "login"
) -> Device:
    """The device that accepts `code` (TOTP, then a recovery code, then the SMS challenge), or InvalidCode.

    Each code works once: TOTP remembers the last time step, recovery and SMS codes are claimed.
    A page keeps the proof by stamping its session with the device (accounts.session_proof).
    """
    code = (code or "").strip()
    device = None
    if code:
        for totp in TOTPDevice.objects.visible_to(user).filter(confirmed=True):
            if totp.verify_token(code):
                device = totp
                break
        if device is None and challenge_id:
            device = sms_challenge_claim(user=user, challenge_id=challenge_id, code=code, purpose=purpose)
        if device is None:
            recovery = RecoveryCodeDevice.objects.visible_to(user).filter(confirmed=True).first()
            if recovery is not None and len(normalise_typed_code(code)) == 10 and recovery.verify_token(code):
                device = recovery
    if device is None:
        audit_record("2fa.code_rejected", actor=actor, user=user, outcome="failure", purpose=purpose)
        raise InvalidCode(field="otp_code")
    if isinstance(device, RecoveryCodeDevice):
        audit_record("2fa.recovery_code_used", actor=actor, user=user, purpose=purpose, recovery_left=device.remaining)
    else:
        audit_record("2fa.code_accepted", actor=actor, user=user, purpose=purpose, method=device.__class__.__name__)
    return device


# --- turning off ------------------------------------------------------------------------------
def two_factor_disable(*, actor: Actor, user: User) -> None:
    """Remove every second factor (and the recovery codes); the account is back to a password.

    Already off is an error whichever interface asks: nothing is removed, recorded or signed out.
    """
    from accounts.notify import notify
    from accounts.services.sessions import credentials_changed

    if not two_factor_enabled(user):
        raise TwoFactorAlreadyOff()
    with transaction.atomic():
        TOTPDevice.objects.visible_to(user).delete()
        SMSDevice.objects.visible_to(user).delete()
        RecoveryCodeDevice.objects.visible_to(user).delete()
        User.objects.filter(pk=user.pk).update(phone="", phone_verified_at=None)
        audit_record("2fa.disabled", actor=actor, user=user)
        credentials_changed(actor=actor, user=user)
        notify(user=user, event="security.two_factor_disabled")


def _second_factor_changed(actor: Actor, user: User, action: str) -> None:
    from accounts.services.sessions import credentials_changed

    audit_record(action, actor=actor, user=user)
    credentials_changed(actor=actor, user=user)
