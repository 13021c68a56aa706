"""Forms for the exchange pages. They shape input; the services decide what is valid to store.

Key, secret and passphrase inputs are password inputs that never render a value back: a page
answering a mistake keeps the nickname and the choices, never a secret. What a key may look like
(length, characters, a passphrase where the exchange has one) is `exchanges.credentials`' rule,
reported on these fields through `cryptovault.pages.submit`.
"""

from __future__ import annotations

from django import forms

from accounts.forms import CODE_ATTRS
from exchanges.catalogue import ExchangeSpec, exchange_choices
from exchanges.models import ExchangeConnection, Feature
from exchanges.services.keys import DEFAULT_FEATURES

NICKNAME_MAX = ExchangeConnection._meta.get_field("nickname").max_length
_SECRET_ATTRS = {"autocomplete": "off", "autocapitalize": "off", "autocorrect": "off", "spellcheck": "false"}


class SecretInput(forms.PasswordInput):
    def __init__(self, attrs=None):
        super().__init__(attrs={**_SECRET_ATTRS, **(attrs or {})}, render_value=False)


class SecretTextarea(forms.Textarea):
    """A multi-line secret (Coinbase's PEM private key): masked by the stylesheet, never rendered back."""

    def __init__(self, attrs=None):
        super().__init__(attrs={**_SECRET_ATTRS, "rows": 5, "class": "secret-text", **(attrs or {})})

    def format_value(self, value):
        return None


def _secret_field(label: str, help_text: str = "", *, multiline: bool = False) -> forms.CharField:
    # Not required and not stripped here: the service names a missing or malformed key in its own words.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=SecretTextarea() if multiline else SecretInput(),
    )


def _features_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Use this connection for",
        choices=Feature.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def add_credential_fields(form: forms.Form, spec: ExchangeSpec) -> None:
    """Key, secret and (where the exchange has one) passphrase, in the exchange's terms."""
    form.fields["api_key"] = _secret_field("API key", f"As {spec.name} shows it on its API page.")
    form.fields["secret"] = _secret_field(
        "Private key" if spec.secret_is_multiline else "API secret",
        "The whole block, BEGIN and END lines included." if spec.secret_is_multiline else "",
        multiline=spec.secret_is_multiline,
    )
    if spec.needs_passphrase:
        form.fields["passphrase"] = _secret_field(
            "API passphrase", f"The passphrase you chose when you made the key on {spec.name}."
        )


def add_code_field(form: forms.Form) -> None:
    """A second-factor code, asked only when the service says a fresh one is needed."""
    form.fields["otp_code"] = forms.CharField(
        label="Authenticator code",
        max_length=20,
        required=False,
        help_text="6 digits from your authenticator app, or a recovery code (XXXXX-XXXXX).",
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )


def add_override_field(form: forms.Form) -> None:
    """The knowing override of a failed test, offered only once a test failed."""
    form.fields["save_untested"] = forms.BooleanField(
        label="Save anyway, I know the test failed",
        required=False,
        help_text="The connection is saved with the status “error” until a test passes.",
    )


class ExchangeChoiceForm(forms.Form):
    """Step 1: which exchange (from the query string, so a link can start at step 2)."""

    exchange = forms.ChoiceField(
        choices=exchange_choices,
        error_messages={"invalid_choice": "We do not support that exchange. Choose one of those below."},
    )


class CredentialsForm(forms.Form):
    """Step 2: what the exchange needs and what the connection is for."""

    exchange = forms.ChoiceField(choices=exchange_choices, widget=forms.HiddenInput)
    nickname = forms.CharField(
        label="Nickname",
        max_length=NICKNAME_MAX,
        help_text="Tells this account apart from others on the same exchange.",
    )

    def __init__(self, *args, spec: ExchangeSpec, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {
            "exchange": spec.id,
            "nickname": spec.name,
            "features": [str(feature) for feature in DEFAULT_FEATURES],
            **kwargs["initial"],
        }
        super().__init__(*args, **kwargs)
        self.spec = spec
        add_credential_fields(self, spec)
        if spec.supports_sandbox:
            self.fields["sandbox"] = forms.BooleanField(
                label="Use the sandbox (testnet)",
                required=False,
                help_text=f"For a key made on {spec.name}'s testnet; no real funds.",
            )
        self.fields["features"] = _features_field()

    @property
    def secret_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("api_key", "secret", "passphrase") if name in self.fields]

    @property
    def detail_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("sandbox", "features") if name in self.fields]

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "exchange": self.spec.id,
            "nickname": data["nickname"],
            "sandbox": bool(data.get("sandbox")),
            "features": list(data.get("features") or []),
            "api_key": data.get("api_key", ""),
            "secret": data.get("secret", ""),
            "passphrase": data.get("passphrase", ""),
        }


class ReviewForm(forms.Form):
    """Step 4: the carried state, the nickname once more, and what the service may still ask for."""

    state = forms.CharField(widget=forms.HiddenInput)
    nickname = forms.CharField(
        label="Nickname",
        max_length=NICKNAME_MAX,
        help_text="Still yours to change: each of your connections needs a nickname of its own.",
    )

    def __init__(self, *args, needs_override: bool = False, needs_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_override:
            add_override_field(self)
        if needs_code:
            add_code_field(self)


class ConnectionEditForm(forms.Form):
    nickname = forms.CharField(label="Nickname", max_length=NICKNAME_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["features"] = _features_field()


class RotateForm(forms.Form):
    """New keys for an existing connection; the service tests them before they replace the old."""

    def __init__(self, *args, spec: ExchangeSpec, needs_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        add_credential_fields(self, spec)
        if needs_code:
            add_code_field(self)

    @property
    def secret_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("api_key", "secret", "passphrase") if name in self.fields]

    def values(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(name, "") for name in ("api_key", "secret", "passphrase", "otp_code")}
