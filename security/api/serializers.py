"""The security API's answers. Output only: the records are written by services, never posted."""

from __future__ import annotations

from rest_framework import serializers

from security.filters import OUTCOME_CHOICES


class ActivitySerializer(serializers.Serializer):
    """One audit record about your account, as `security.selectors.ActivityRow` presents it."""

    id = serializers.IntegerField()
    at = serializers.DateTimeField(help_text="When it happened.")
    action = serializers.CharField(help_text="What happened, as recorded (`auth.signed_in`): the `action` filter.")
    action_label = serializers.CharField(help_text="The same in words (`Signed in`).")
    outcome = serializers.ChoiceField(choices=OUTCOME_CHOICES)
    by = serializers.ChoiceField(
        choices=[("you", "You"), ("staff", "Staff"), ("someone", "Someone")],
        help_text="You; a staff member acting on your account; or someone not signed in as you (a failed sign-in).",
    )
    via = serializers.CharField(
        help_text="Where it came from: `page`, `api`, `admin`, `command`, `task` or `system` "
        "(empty for records older than this field)."
    )
    ip = serializers.IPAddressField(allow_null=True, help_text="The client address; null when staff acted.")
    browser = serializers.CharField(
        help_text="Browser and system (`Chrome on Linux`); empty without a user agent or when staff acted."
    )
    user_agent = serializers.CharField(help_text="The user agent as sent; empty when staff acted.")
    request_id = serializers.CharField(help_text="The X-Request-ID of the request that did it: quote it to support.")
    details = serializers.DictField(help_text="What else was recorded (a key's name, a session id); never a secret.")
