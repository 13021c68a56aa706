"""The development console email backend: emails a person can read and links they can copy.

Django's console backend prints the MIME message as it would go over the wire: the text part
is quoted-printable, so a long verification link is cut at 76 characters and its ``=`` signs
become ``=3D``, and the HTML part follows in full. This backend prints the headers a person
reads (subject, from, to, ...) decoded, then the text part as written. Other parts are only
named. settings.py uses it for EMAIL_URL=consolemail:// (the default with DEBUG on).
"""

from __future__ import annotations

import html
from email.message import Message

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend
from django.utils.html import strip_tags

RULE = "-" * 79


def readable_email(message: EmailMessage) -> str:
    """The message as a person reads it: headers, the plain text, and what else it carries."""
    lines = [
        f"Subject: {message.subject}",
        f"From: {message.from_email}",
        f"To: {', '.join(message.to)}",
    ]
    for label, addresses in (("Cc", message.cc), ("Bcc", message.bcc), ("Reply-To", message.reply_to)):
        if addresses:
            lines.append(f"{label}: {', '.join(addresses)}")
    if message.content_subtype == "html":
        # An HTML-only message: its text without the markup, so links can still be copied.
        lines += ["", "(HTML only; its text without the markup:)", html.unescape(strip_tags(message.body)).strip()]
    else:
        lines += ["", message.body.rstrip("\n")]
    other_parts = [f"the {mimetype} version" for _, mimetype in getattr(message, "alternatives", [])]
    other_parts += [_attachment_name(attachment) for attachment in message.attachments]
    if other_parts:
        lines += ["", "Also in this email, not shown: " + ", ".join(other_parts)]
    return "\n".join(lines)


def _attachment_name(attachment: Message | tuple) -> str:
    if isinstance(attachment, Message):
        return f"attachment {attachment.get_filename() or attachment.get_content_type()}"
    filename, _, mimetype = attachment
    return f"attachment {filename or mimetype}"


class ConsoleEmailBackend(EmailBackend):
    """Writes each email to the console (stdout) decoded; sends nothing."""

    def write_message(self, message: EmailMessage) -> None:
        self.stream.write(f"{readable_email(message)}\n{RULE}\n")
