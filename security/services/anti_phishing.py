"""The anti-phishing code (as Binance offers): a phrase the user chooses, shown in every email we send
them, so an email without it, or with the wrong one, is not from us.

Whoever can change it can make a forged email look genuine, so changing it needs a fresh second factor
when 2FA is on, is audited (`security.anti_phishing_changed`, never with the code) and raises a
critical security alert. The code is never logged; it is not a secret from its owner (every email
shows it), but the API answers only whether one is set and its first character
(`anti_phishing_hint`): a leaked read-only API key must not hand a phisher the phrase.
"""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.gates import require_step_up_if_two_factor
from accounts.models import User
from cryptovault.actor import Actor
from security.audit import audit_record

MIN_LENGTH, MAX_LENGTH = 4, 20


def anti_phishing_code_clean(code: str, *, user: User) -> str:
    """`code` if it may be the user's anti-phishing code; "" (clearing it) is allowed.

    4 to 20 printable characters, no space at either end, and neither the email address nor the
    password (both may be in a phisher's hands; the code must be something only the user and we know).
    """
    if code == "":
        return code
    errors: list[str] = []
    if code != code.strip():
        errors.append("Leave no space at the start or end.")
    if not code.isprintable():
        errors.append("Use printable characters only (letters, digits, punctuation, spaces).")
    if not MIN_LENGTH <= len(code) <= MAX_LENGTH:
        errors.append(f"Use {MIN_LENGTH} to {MAX_LENGTH} characters (this has {len(code)}).")
    if code.casefold() == (user.email or "").casefold():
        errors.append("Choose something other than your email address.")
    elif not errors and user.has_usable_password() and user.check_password(code):
        errors.append("Choose something other than your password.")
    if errors:
        raise ValidationError({"code": errors})
    return code


def anti_phishing_hint(user: User) -> str:
    """`B•••`: enough to tell which code is set, not enough to forge an email with."""
    code = user.anti_phishing_code
    return f"{code[0]}•••" if code else ""


def anti_phishing_code_set(*, actor: Actor, code: str, otp_code: str = "", challenge_id: str = "") -> User:
    """Set, change or (with "") clear the acting user's anti-phishing code.

    The second factor is checked before anything else and outside the transaction, so a wrong code is
    recorded (`2fa.code_rejected`) and nothing changes. The same code again changes nothing and is not
    recorded or announced.
    """
    user: User = actor.user
    require_step_up_if_two_factor(actor, otp_code=otp_code, challenge_id=challenge_id)
    code = anti_phishing_code_clean(code, user=user)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.anti_phishing_code
        if code == before:
            user.anti_phishing_code = code
            return user
        change: Literal["set", "changed", "cleared"] = "cleared" if not code else ("changed" if before else "set")
        locked.anti_phishing_code = code
        locked.save(update_fields=["anti_phishing_code"])
        user.anti_phishing_code = code
        audit_record("security.anti_phishing_changed", actor=actor, user=user, change=change)
        _alert(user, change)
    return user


def _alert(user: User, change: str) -> None:
    from accounts.notify import notify  # imported here: accounts.notify sends through channels that import this app

    notify(user=user, event="security.anti_phishing_changed", context={"change": change})
