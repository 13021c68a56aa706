"""Telling the admins that a backup run failed: nobody reads a status page at 02:00."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import mail_admins, send_mail

log = logging.getLogger(__name__)


def admin_emails() -> list[str]:
    """ADMINS when set; otherwise the active accounts holding the admin role (or superusers)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    if settings.ADMINS:
        return [admin if isinstance(admin, str) else admin[1] for admin in settings.ADMINS]
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name="admin"), is_active=True)
    return sorted(set(users.values_list("email", flat=True)))


def admins_notify_failure(what: str, error: str, *, backup_id: int | None = None) -> None:
    subject = f"Backup failed: {what}"
    body = (
        f"{what} failed.\n\n{error}\n\n"
        f"Backup record: #{backup_id if backup_id is not None else '-'}. "
        "See the backups status page in the admin, or run `manage.py backup status`.\n"
    )
    try:
        if settings.ADMINS:
            mail_admins(subject, body, fail_silently=False)
        elif recipients := admin_emails():
            send_mail(f"{settings.EMAIL_SUBJECT_PREFIX}{subject}", body, None, recipients)
        else:
            log.error("No admin to tell that %s: %s", what, error)
    except Exception:  # a broken mail server must not hide the failure it was reporting
        log.exception("Could not email the admins that %s", what)
