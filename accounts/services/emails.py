"""Account emails, each with a text and an HTML part, sent after the transaction commits."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string


def account_email(*, to: str, template: str, context: dict) -> EmailMultiAlternatives:
    """templates/accounts/email/<template>_{subject.txt,body.txt,body.html} as one message, not sent.

    Every template shows the recipient's anti-phishing code (`user.anti_phishing_code`) when set.
    """
    context = {"site_name": settings.SITE_NAME, **context}
    subject = (
        settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        + render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    )
    text = render_to_string(f"accounts/email/{template}_body.txt", context)
    html = render_to_string(f"accounts/email/{template}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def send_account_email(*, to: str, template: str, context: dict) -> None:
    """Render the email now and send it once the transaction commits."""
    message = account_email(to=to, template=template, context=context)
    transaction.on_commit(message.send)
