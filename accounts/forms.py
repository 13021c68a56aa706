"""Forms for the account pages. They validate input; the services decide."""

from __future__ import annotations

import zoneinfo

from django import forms

from accounts.models import ApiKeyScope, NotificationChannel, phone_number_validator
from accounts.notifications import EVENT_TYPES

CODE_ATTRS = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "off", "spellcheck": "false"}


class SignupExtraForm(forms.Form):
    """allauth's sign-up form plus the name (ACCOUNT_SIGNUP_FORM_CLASS)."""

    name = forms.CharField(
        max_length=150, required=False, label="Name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    field_order = ["name", "email", "password1", "password2"]

    def signup(self, request, user) -> None:
        """allauth requires it; the name is saved with the user in AccountAdapter.save_user."""


class EmailCodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=12,
        help_text="The 6 digits from the email we sent you.",
        widget=forms.TextInput(attrs={**CODE_ATTRS, "pattern": r"[0-9 ]*", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].replace(" ", "").strip()


class SecondFactorForm(forms.Form):
    """A code from the authenticator app, a recovery code, or the code we texted."""

    otp_code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="6 digits from your authenticator app or text message, or a recovery code (XXXXX-XXXXX).",
        widget=forms.TextInput(attrs={**CODE_ATTRS, "inputmode": "text", "autofocus": True}),
    )


class TOTPConfirmForm(forms.Form):
    code = forms.CharField(
        label="Code from your app",
        max_length=12,
        help_text="The 6 digits your authenticator app shows now.",
        widget=forms.TextInput(attrs={**CODE_ATTRS, "pattern": r"[0-9 ]*"}),
    )


class PhoneAddForm(forms.Form):
    number = forms.CharField(
        label="Mobile number",
        max_length=16,
        validators=[phone_number_validator],
        help_text="In international form, for example +447700900123.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "autofocus": True}),
    )

    def clean_number(self) -> str:
        return "".join(self.cleaned_data["number"].split())


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the text message",
        max_length=12,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "pattern": r"[0-9 ]*", "autofocus": True}),
    )


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100, help_text="What uses this key, for example “Tax report script”."
    )
    scopes = forms.MultipleChoiceField(
        label="Scopes",
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Read sees your data; Trade places and cancels orders; Withdraw moves funds out.",
    )
    allowed_ips = forms.CharField(
        label="Allowed IP addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "203.0.113.7\n198.51.100.0/24"}),
        help_text="One address or network per line. Empty: any address.",
    )
    expires_at = forms.DateField(
        label="Expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at the end of that day (your time zone).",
    )

    def clean_allowed_ips(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_ips"].splitlines() if line.strip()]


def _timezone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime"})
    return [(name, name.replace("_", " ")) for name in names]


class ProfileForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    timezone = forms.ChoiceField(
        label="Time zone", choices=_timezone_choices, help_text="Times on pages and in emails use this zone."
    )


def preference_field_name(event_type: str, channel: str) -> str:
    return f"pref__{event_type}__{channel}"


class NotificationPreferencesForm(forms.Form):
    """One checkbox per event type and channel, laid out as a grid by the template."""

    def __init__(self, *args, preferences: dict[str, dict[str, bool]], **kwargs):
        super().__init__(*args, **kwargs)
        for event_type, event in EVENT_TYPES.items():
            for channel, channel_label in NotificationChannel.choices:
                self.fields[preference_field_name(event_type, channel)] = forms.BooleanField(
                    label=f"{event.label} — {channel_label}",
                    required=False,
                    initial=preferences.get(event_type, {}).get(channel, False),
                )

    def rows(self) -> list[dict]:
        """[{label, cells: [bound field per channel]}] for the grid."""
        return [
            {
                "label": event.label,
                "cells": [self[preference_field_name(key, channel)] for channel in NotificationChannel.values],
            }
            for key, event in EVENT_TYPES.items()
        ]

    @staticmethod
    def channels() -> list[str]:
        return [label for _, label in NotificationChannel.choices]

    def preferences(self) -> dict[str, dict[str, bool]]:
        return {
            key: {
                channel: bool(self.cleaned_data.get(preference_field_name(key, channel)))
                for channel in NotificationChannel.values
            }
            for key in EVENT_TYPES
        }


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    otp_code = forms.CharField(
        label="Two-factor code",
        max_length=20,
        required=False,
        help_text="From your authenticator app or text message, or a recovery code.",
        widget=forms.TextInput(attrs={**CODE_ATTRS, "inputmode": "text"}),
    )
    confirm = forms.BooleanField(label="I understand this cannot be undone.")

    def __init__(self, *args, two_factor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if two_factor:
            self.fields["otp_code"].required = True
        else:
            del self.fields["otp_code"]
