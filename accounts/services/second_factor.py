"""Second factors: TOTP, recovery codes and SMS; setting them up, using them, stepping up.

"Step-up" is a fresh proof: a sensitive action needs a second factor used within the last
SECOND_FACTOR_STEP_UP_SECONDS. The proof is stamped on the session (pages, session API) or
carried in the JWT access token (`otp_at`), or given with the request itself (`otp_code`).
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.codes import code_digest, normalise_typed_code, numeric_code, token_digest
from accounts.errors import InvalidCode, SMSLimitReached, SMSUnavailable
from accounts.models import RecoveryCode, RecoveryCodeDevice, SMSChallenge, SMSDevice, TOTPDevice, User
from accounts.sms import SMSDeliveryError, sms_backend
from security.audit import audit_record

STEP_UP_SESSION_KEY = "cv_second_factor_at"
RECOVERY_CODE_COUNT = 10


# --- state ------------------------------------------------------------------------------------
def two_factor_enabled(user: User) -> bool:
    """On once an authenticator app or a verified phone is confirmed (recovery codes alone do not count)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or SMSDevice.objects.filter(user=user, confirmed=True).exists()
    )


def two_factor_summary(user: User) -> dict:
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    sms = SMSDevice.objects.filter(user=user, confirmed=True).first()
    recovery = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    return {
        "enabled": bool(totp or sms),
        "totp": bool(totp),
        "sms": sms.masked_number if sms else None,
        "recovery_codes_remaining": recovery.remaining if recovery else 0,
    }


# --- TOTP set-up ------------------------------------------------------------------------------
@transaction.atomic
def totp_begin(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator seed; an earlier unconfirmed one is discarded."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", key=TOTPDevice.new_key(), confirmed=False)


def totp_pending(*, user: User) -> TOTPDevice | None:
    """The seed being set up, if it was started less than TOTPDevice.PENDING_MINUTES ago."""
    started_after = timezone.now() - timedelta(minutes=TOTPDevice.PENDING_MINUTES)
    return TOTPDevice.objects.filter(user=user, confirmed=False, created_at__gt=started_after).order_by("-id").first()


def totp_confirm(*, request: HttpRequest | None, user: User, code: str) -> list[str] | None:
    """Turn the pending seed on with a valid code. Returns new recovery codes if the user had none."""
    device = totp_pending(user=user)
    if device is None:
        raise InvalidCode("Start the set-up again: there is no authenticator waiting for a code.", field="code")
    if not device.verify_token(code):
        audit_record("2fa.totp_confirm_failed", request=request, user=user, outcome="failure")
        raise InvalidCode(
            "That code did not match. Check the time on your phone and try the newest code.", field="code"
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = None
        if not RecoveryCodeDevice.objects.filter(user=user, confirmed=True).exists():
            codes = _recovery_codes_replace(user)
    _second_factor_changed(request, user, device, "2fa.totp_enabled")
    return codes


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


@transaction.atomic
def recovery_codes_regenerate(*, request: HttpRequest | None, user: User) -> list[str]:
    """Ten new codes, shown once; the old ones stop working."""
    codes = _recovery_codes_replace(user)
    audit_record("2fa.recovery_codes_regenerated", request=request, user=user)
    return codes


# --- SMS --------------------------------------------------------------------------------------
def _sms_budget_check(device: SMSDevice) -> None:
    """Texts cost money and can be aimed at strangers: a cap per account and per number, whatever
    the client IP (the per-IP rate limits alone let many addresses add up)."""
    since = timezone.now() - timedelta(hours=1)
    limit = settings.SMS_MAX_PER_HOUR
    recent = SMSChallenge.objects.filter(created_at__gte=since)
    if (
        recent.filter(device__user_id=device.user_id).count() >= limit
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
    minutes = settings.SMS_CODE_VALID_SECONDS // 60
    body = f"{settings.SITE_NAME} code: {code}. It expires in {minutes} minutes. Never share it."
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
            SMSChallenge.objects.select_for_update()
            .select_related("device")
            .filter(challenge_digest=token_digest(challenge_id or ""), device__user=user, purpose=purpose)
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


def sms_phone_add(*, request: HttpRequest | None, user: User, number: str) -> str:
    """Text a code to a new number; it becomes a second factor once the code comes back."""
    with transaction.atomic():
        # The pending phone row is reused, not deleted, so its texts keep counting toward the cap.
        device = SMSDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = SMSDevice.objects.create(user=user, name="Phone", number=number, confirmed=False)
        elif device.number != number:
            # Codes texted to the previous number must not verify this one.
            device.challenges.filter(used_at__isnull=True).update(used_at=timezone.now())
            device.number = number
            device.save(update_fields=["number"])
    challenge_id = _sms_send(device=device, purpose=SMSChallenge.Purpose.VERIFY_PHONE)
    audit_record("2fa.phone_code_sent", request=request, user=user, phone=device.masked_number)
    return challenge_id


def sms_phone_confirm(*, request: HttpRequest | None, user: User, challenge_id: str, code: str) -> list[str] | None:
    """Verify the phone with the code sent to it. Returns new recovery codes if the user had none."""
    device = sms_challenge_claim(
        user=user, challenge_id=challenge_id, code=code, purpose=SMSChallenge.Purpose.VERIFY_PHONE
    )
    if device is None:
        raise InvalidCode("That code is wrong or has expired. Send a new one.", field="code")
    with transaction.atomic():
        SMSDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        SMSDevice.objects.filter(pk=device.pk).update(confirmed=True)
        User.objects.filter(pk=user.pk).update(phone=device.number, phone_verified_at=timezone.now())
        codes = None
        if not RecoveryCodeDevice.objects.filter(user=user, confirmed=True).exists():
            codes = _recovery_codes_replace(user)
    user.refresh_from_db(fields=["phone", "phone_verified_at"])
    _second_factor_changed(request, user, device, "2fa.phone_verified")
    return codes


def sms_code_send(*, user: User, purpose: str) -> str:
    """Text a sign-in or step-up code to the user's verified phone; returns the challenge id."""
    device = SMSDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        raise InvalidCode("There is no verified phone on this account.", field="method")
    return _sms_send(device=device, purpose=purpose)


# --- using a second factor --------------------------------------------------------------------
def second_factor_verify(
    *, request: HttpRequest | None, user: User, code: str, challenge_id: str | None = None, purpose: str = "login"
):
    """The device that accepts `code` (TOTP, then a recovery code, then the SMS challenge), or InvalidCode.

    Each code works once: TOTP remembers the last time step, recovery and SMS codes are claimed.
    """
    code = (code or "").strip()
    device = None
    if code:
        for totp in TOTPDevice.objects.filter(user=user, confirmed=True):
            if totp.verify_token(code):
                device = totp
                break
        if device is None and challenge_id:
            device = sms_challenge_claim(user=user, challenge_id=challenge_id, code=code, purpose=purpose)
        if device is None:
            recovery = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
            if recovery is not None and len(normalise_typed_code(code)) == 10 and recovery.verify_token(code):
                device = recovery
    if device is None:
        audit_record("2fa.code_rejected", request=request, user=user, outcome="failure", purpose=purpose)
        raise InvalidCode(field="otp_code")
    audit_record("2fa.code_accepted", request=request, user=user, purpose=purpose, method=device.__class__.__name__)
    if request is not None and hasattr(request, "session"):
        request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        request.session[STEP_UP_SESSION_KEY] = int(time.time())
    return device


def step_up_is_fresh(request: HttpRequest) -> bool:
    window = settings.SECOND_FACTOR_STEP_UP_SECONDS
    now = time.time()
    stamped = None
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "get"):  # a JWT access token
        stamped = auth.get("otp_at")
    elif hasattr(request, "session"):
        stamped = request.session.get(STEP_UP_SESSION_KEY)
    return bool(stamped) and now - float(stamped) <= window


# --- turning off ------------------------------------------------------------------------------
def two_factor_disable(*, request: HttpRequest | None, user: User) -> None:
    """Remove every second factor (and the recovery codes); the account is back to a password."""
    from accounts.services.sessions import credentials_changed

    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        SMSDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(phone="", phone_verified_at=None)
    audit_record("2fa.disabled", request=request, user=user)
    credentials_changed(request=request, user=user)


def _second_factor_changed(request, user, device, action: str) -> None:
    from accounts.services.sessions import credentials_changed

    audit_record(action, request=request, user=user)
    if request is not None and hasattr(request, "session"):
        request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        request.session[STEP_UP_SESSION_KEY] = int(time.time())
    credentials_changed(request=request, user=user)
