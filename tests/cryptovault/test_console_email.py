"""In development, emails are printed to the console: readable, with links that can be copied.

Django's own console backend prints the MIME source, where quoted-printable cuts a long link
at 76 characters and turns its `=` into `=3D`; cryptovault.mail.ConsoleEmailBackend (what
EMAIL_URL=consolemail://, the default, selects) prints the decoded text instead.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape

from cryptovault.mail import ConsoleEmailBackend
from tests.conftest import PASSWORD

LONG_LINK = "http://127.0.0.1:8000/accounts/confirm-email/" + "Mg:1vQx7Z:" + "k3Y-aB_9" * 12 + "/?next=/a=b&c=d"


def printed(*messages: EmailMultiAlternatives) -> str:
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages(list(messages))
    return stream.getvalue()


def test_a_long_link_is_printed_whole_on_one_line_and_the_headers_are_decoded():
    message = EmailMultiAlternatives(
        "[CryptoVault] Vérifiez votre adresse — merci",
        f"Hello Zoë,\n\nFollow this link:\n{LONG_LINK}\n\n— CryptoVault\n",
        "CryptoVault <no-reply@cryptovault.local>",
        ["zoë@example.com"],
    )
    message.attach_alternative(f'<p>Follow <a href="{LONG_LINK}">this link</a></p>', "text/html")

    output = printed(message)

    assert LONG_LINK in output.splitlines()
    assert "Subject: [CryptoVault] Vérifiez votre adresse — merci" in output
    assert "From: CryptoVault <no-reply@cryptovault.local>" in output
    assert "To: zoë@example.com" in output
    assert "Hello Zoë," in output
    assert "=3D" not in output and "=\n" not in output
    assert "<a href" not in output, "the HTML version is named, not dumped"
    assert "text/html" in output


def test_an_html_only_email_still_shows_its_text_and_links():
    link = escape(LONG_LINK)
    message = EmailMultiAlternatives("Hi", f'<p>Reset: <a href="{link}">{link}</a></p>', to=["a@example.com"])
    message.content_subtype = "html"
    output = printed(message)
    assert LONG_LINK in output
    assert "<p>" not in output


@pytest.mark.django_db
def test_the_verification_link_printed_at_sign_up_can_be_followed(
    client, settings, capsys, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "cryptovault.mail.ConsoleEmailBackend"  # the default outside tests
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"name": "Nina New", "email": "nina@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302, response.content

    output = capsys.readouterr().out
    link = re.search(r"^http://testserver(/accounts/confirm-email/\S+/)$", output, re.MULTILINE)
    assert link, output
    assert len(link.group(0)) > 76, "long enough that quoted-printable would have cut it"
    confirm_page = client.get(link.group(1))
    assert confirm_page.status_code == 200
    assert b"nina@example.com" in confirm_page.content
