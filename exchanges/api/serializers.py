"""What the exchanges API accepts and answers.

Input serializers only shape the request (types, and lengths bounded by the constants the rules
themselves use); what makes a key, a nickname or a feature list acceptable is decided by
`exchanges.credentials.checked_credentials` and the model, whose ValidationErrors come back as
per-field 400s. No answer ever holds a key, a secret or a passphrase: a connection shows only
`key_hint`, the key's last four characters.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import OtpSerializer
from cryptovault.api.serializers import ErrorSerializer
from exchanges.auditor import key_warnings
from exchanges.catalogue import ExchangeSpec, catalogue, exchange_spec
from exchanges.credentials import MAX_KEY_LENGTH, MAX_PASSPHRASE_LENGTH, MAX_SECRET_LENGTH
from exchanges.models import ConnectionCheck, ExchangeConnection, Feature, Status, TestCode

NICKNAME_MAX_LENGTH = ExchangeConnection._meta.get_field("nickname").max_length
TEST_CODES_TEXT = ", ".join(f"`{code}`" for code in TestCode.values)


def _exchange_help() -> str:
    return "An exchange id from GET /exchanges/: " + ", ".join(f"`{spec.id}`" for spec in catalogue()) + "."


# Lazy: the catalogue asks ccxt, which this module's import should not wait for.
EXCHANGE_HELP = lazy(_exchange_help, str)()


def guide_path(exchange_id: str) -> str:
    """The page explaining how to make a safe key on that exchange."""
    return reverse("exchanges:guide", kwargs={"exchange_id": exchange_id})


# --- the catalogue ------------------------------------------------------------------------------------
class ExchangeSerializer(serializers.Serializer):
    """One exchange a trader can connect, and what connecting it takes."""

    id = serializers.CharField(help_text="Send it as `exchange` when connecting.")
    name = serializers.CharField()
    needs_passphrase = serializers.BooleanField(help_text="Its keys come with a passphrase (KuCoin).")
    supports_sandbox = serializers.BooleanField(help_text="It has a testnet or sandbox (`sandbox: true`).")
    maker_fee = serializers.DecimalField(
        max_digits=None, decimal_places=None, help_text="The base maker fee as a fraction (0.001 is 0.1%)."
    )
    taker_fee = serializers.DecimalField(
        max_digits=None, decimal_places=None, help_text="The base taker fee as a fraction."
    )
    tier_based_fees = serializers.BooleanField(help_text="Fees get lower with trading volume.")
    fee_text = serializers.CharField(help_text="The fees in words, as the pages show them.")
    reports_key_permissions = serializers.BooleanField(
        help_text="It tells whether a key can withdraw or is bound to IP addresses; without it, "
        "`key_permissions` stay null."
    )
    key_page_url = serializers.URLField(help_text="Where keys are made on the exchange.")
    guide_url = serializers.SerializerMethodField(help_text="Our step-by-step guide to making a safe key there.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_guide_url(self, spec: ExchangeSpec) -> str:
        path = guide_path(spec.id)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


# --- connections, as answered -------------------------------------------------------------------------
class KeyWarningSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="What deserves attention: `can_withdraw`, `no_ip_restriction`, `permissions_unknown`, `old_key` "
        "(more may come)."
    )
    level = serializers.ChoiceField(choices=["danger", "warning", "info"])
    message = serializers.CharField(help_text="What to do about it, in words.")


class KeyPermissionsSerializer(serializers.Serializer):
    """What the exchange reported about the key at the last passing test; null: not reported."""

    can_withdraw = serializers.BooleanField(source="key_can_withdraw", allow_null=True)
    ip_restricted = serializers.BooleanField(source="key_ip_restricted", allow_null=True)
    can_trade = serializers.BooleanField(source="key_can_trade", allow_null=True)
    created_at = serializers.DateTimeField(
        source="key_created_at", allow_null=True, help_text="When the exchange says the key was made."
    )


class ConnectionSerializer(serializers.ModelSerializer):
    """One connection: its state and what we know of its key, never the key itself."""

    exchange_name = serializers.SerializerMethodField()
    features = serializers.ListField(child=serializers.ChoiceField(choices=Feature.choices))
    key_hint = serializers.CharField(help_text="The key's last four characters, to recognise it.")
    key_age_days = serializers.SerializerMethodField(
        help_text="Days since the exchange made the key (or, when it does not say, since it was stored here)."
    )
    status = serializers.ChoiceField(choices=Status.choices)
    # Plain strings where a test code is not the field named `code`: drf-spectacular would otherwise
    # give the one choice set several enum names (a schema warning the suite fails on).
    last_error_code = serializers.CharField(
        help_text="The last failing test's code (one of the test codes: " + TEST_CODES_TEXT + "); empty after a pass."
    )
    key_permissions = KeyPermissionsSerializer(source="*")
    warnings = serializers.SerializerMethodField(help_text="What about the key deserves attention (the key auditor).")

    class Meta:
        model = ExchangeConnection
        fields = [
            "id",
            "exchange",
            "exchange_name",
            "nickname",
            "sandbox",
            "features",
            "key_hint",
            "keys_set_at",
            "key_age_days",
            "status",
            "last_checked_at",
            "latency_ms",
            "last_error_code",
            "key_permissions",
            "warnings",
            "created_at",
            "updated_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_exchange_name(self, connection: ExchangeConnection) -> str:
        return exchange_spec(connection.exchange).name

    def get_key_age_days(self, connection: ExchangeConnection) -> int:
        return connection.key_age.days

    @extend_schema_field(KeyWarningSerializer(many=True))
    def get_warnings(self, connection: ExchangeConnection) -> list[dict]:
        return KeyWarningSerializer(key_warnings(connection), many=True).data


class TestResultSerializer(serializers.Serializer):
    """One test of a set of keys against the exchange."""

    ok = serializers.BooleanField(help_text="The exchange accepted the keys.")
    code = serializers.ChoiceField(choices=TestCode.choices, help_text="`ok`, or what went wrong.")
    message = serializers.CharField(help_text="What it means and what to do, in words.")
    latency_ms = serializers.IntegerField(allow_null=True, help_text="How long the exchange took to answer.")


class CheckResultSerializer(TestResultSerializer):
    status = serializers.ChoiceField(choices=Status.choices, help_text="The connection's status after the test.")


class ConnectionTestedSerializer(ConnectionSerializer):
    """A connection just made or given new keys, with the test its keys went through."""

    test = TestResultSerializer()

    class Meta(ConnectionSerializer.Meta):
        fields = [*ConnectionSerializer.Meta.fields, "test"]
        read_only_fields = fields


class ConnectionCheckSerializer(serializers.ModelSerializer):
    """One point of the latency history."""

    trigger = serializers.ChoiceField(choices=ConnectionCheck.Trigger.choices)
    code = serializers.ChoiceField(choices=TestCode.choices)

    class Meta:
        model = ConnectionCheck
        fields = ["checked_at", "trigger", "ok", "code", "latency_ms"]
        read_only_fields = fields


class ConnectionTestFailedSerializer(ErrorSerializer):
    """A 400: bad input (per-field `errors`), or keys the exchange refused (`connection_test_failed`)."""

    test_code = serializers.CharField(
        required=False,
        help_text="Only with `code` connection_test_failed: what the test found (" + TEST_CODES_TEXT + "). "
        "Nothing was stored, or the old keys stay in use.",
    )


# --- input --------------------------------------------------------------------------------------------
def _exchange_field() -> serializers.CharField:
    return serializers.CharField(max_length=32, help_text=EXCHANGE_HELP)


def _credential_field(max_length: int, *, required: bool = True, help_text: str = "") -> serializers.CharField:
    """Blank passes through: the service says which credential is missing, in the words the page uses."""
    optional = {} if required else {"default": ""}
    return serializers.CharField(
        write_only=True,
        allow_blank=True,
        required=required,
        max_length=max_length,
        style={"input_type": "password"},
        help_text=help_text,
        **optional,
    )


class CredentialsSerializer(serializers.Serializer):
    api_key = _credential_field(MAX_KEY_LENGTH)
    secret = _credential_field(MAX_SECRET_LENGTH, help_text="Coinbase's is a PEM private key (several lines).")
    passphrase = _credential_field(
        MAX_PASSPHRASE_LENGTH,
        required=False,
        help_text="Only for exchanges whose `needs_passphrase` is true; leave it out otherwise.",
    )


class ConnectionTestInputSerializer(CredentialsSerializer):
    exchange = _exchange_field()
    sandbox = serializers.BooleanField(default=False, help_text="Test against the exchange's testnet or sandbox.")


class ConnectionCreateSerializer(ConnectionTestInputSerializer, OtpSerializer):
    nickname = serializers.CharField(
        max_length=NICKNAME_MAX_LENGTH, allow_blank=True, help_text="Your name for it, unique among your connections."
    )
    features = serializers.ListField(
        child=serializers.ChoiceField(choices=Feature.choices),
        required=False,
        help_text="What the connection is used for; default: trading and wallet.",
    )
    save_untested = serializers.BooleanField(
        default=False,
        help_text="Store the keys even when the test fails (the connection starts in `error`).",
    )


class ConnectionUpdateSerializer(serializers.Serializer):
    nickname = serializers.CharField(max_length=NICKNAME_MAX_LENGTH, allow_blank=True, required=False)
    features = serializers.ListField(child=serializers.ChoiceField(choices=Feature.choices), required=False)


class ConnectionRotateSerializer(CredentialsSerializer, OtpSerializer):
    """The new keys, for the same exchange account; tested before they replace the old ones."""


class ConnectionListQuerySerializer(serializers.Serializer):
    include_revoked = serializers.BooleanField(default=False)
