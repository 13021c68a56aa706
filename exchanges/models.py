"""Exchange connections: a user's API keys for one exchange account, sealed at rest.

The key, secret and passphrase are `SealedTextField`s: the row holds only versioned ciphertext and
Python code sees only ciphertext too, so a connection in a log, a traceback or the admin leaks
nothing. `exchanges.credentials.open_credentials` is the one place that decrypts, for the ccxt
client. Pages show the last four characters of the key (`key_hint`), which identify it to its owner.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from cryptovault.access import OwnedQuerySet
from security.crypto import SealedTextField


class Feature(models.TextChoices):
    TRADING = "trading", "Trading"
    WALLET = "wallet", "Wallet (balances)"
    PAPER = "paper", "Paper trading"


class Status(models.TextChoices):
    CONNECTED = "connected", "Connected"
    DEGRADED = "degraded", "Degraded"
    ERROR = "error", "Error"
    REVOKED = "revoked", "Revoked"


class TestCode(models.TextChoices):
    OK = "ok", "OK"
    INVALID_CREDENTIALS = "invalid_credentials", "Invalid credentials"
    PERMISSION_DENIED = "permission_denied", "Permission denied"
    IP_NOT_ALLOWED = "ip_not_allowed", "IP not allowed"
    NETWORK_ERROR = "network_error", "Network error"
    EXCHANGE_UNAVAILABLE = "exchange_unavailable", "Exchange unavailable"
    RATE_LIMITED = "rate_limited", "Rate limited"
    UNKNOWN = "unknown", "Unknown error"


def validate_features(value) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Features must be a list of names.")
    unknown = sorted(set(value) - set(Feature.values))
    if unknown:
        raise ValidationError(f"Unknown feature: {', '.join(unknown)}.")


def validate_printable(value: str) -> None:
    if any(not char.isprintable() for char in value):
        raise ValidationError("Use printable characters only.")


NICKNAME_TAKEN = "You already have a connection with this nickname."


class ExchangeConnectionQuerySet(OwnedQuerySet):
    def active(self) -> ExchangeConnectionQuerySet:
        return self.exclude(status=Status.REVOKED)


class ExchangeConnection(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exchange_connections")
    exchange = models.CharField(max_length=32, db_index=True)
    nickname = models.CharField(max_length=64, validators=[validate_printable])
    sandbox = models.BooleanField(default=False, help_text="Connected to the exchange's testnet or sandbox.")
    features = models.JSONField(default=list, blank=True, validators=[validate_features])

    api_key_sealed = SealedTextField(help_text="The API key, encrypted.")
    secret_sealed = SealedTextField(help_text="The API secret, encrypted.")
    passphrase_sealed = SealedTextField(help_text="The passphrase (where the exchange has one), encrypted.")
    key_hint = models.CharField(max_length=4, blank=True, help_text="The key's last four characters.")
    keys_set_at = models.DateTimeField(default=timezone.now, help_text="When these keys were stored here.")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED, db_index=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error_code = models.CharField(max_length=32, choices=TestCode.choices, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)

    # What the exchange reports about the key (None: not reported).
    key_can_withdraw = models.BooleanField(null=True, blank=True)
    key_ip_restricted = models.BooleanField(null=True, blank=True)
    key_can_trade = models.BooleanField(null=True, blank=True)
    key_created_at = models.DateTimeField(null=True, blank=True, help_text="When the exchange says the key was made.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ExchangeConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["exchange", "nickname", "id"]
        constraints = [
            models.UniqueConstraint(  # "Main" and "main" are one name to the person reading the cards
                "user",
                Lower("nickname"),
                condition=Q(revoked_at__isnull=True),
                name="exchange_connection_nickname_unique",
                violation_error_message=NICKNAME_TAKEN,
            )
        ]
        indexes = [models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.nickname} ({self.exchange})"

    def clean(self) -> None:
        from exchanges.catalogue import exchange_choices

        if self.exchange not in dict(exchange_choices()):
            raise ValidationError({"exchange": f"We do not support the exchange {self.exchange!r}."})
        if isinstance(self.features, list):
            self.features = sorted(set(self.features))
        self.nickname = (self.nickname or "").strip()

    def validate_constraints(self, exclude=None) -> None:
        """The nickname rule's error belongs to the nickname field (Django files a conditional one under __all__)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            messages = error.message_dict
            if "__all__" in messages:
                messages.setdefault("nickname", []).extend(messages.pop("__all__"))
            raise ValidationError(messages) from error

    @property
    def is_active(self) -> bool:
        return self.status != Status.REVOKED

    @property
    def key_age(self) -> timedelta:
        return timezone.now() - (self.key_created_at or self.keys_set_at)


class ConnectionCheckQuerySet(OwnedQuerySet):
    owner_field = "connection__user"


class ConnectionCheck(models.Model):
    """One test of a connection's keys: the latency history and the health job's record."""

    class Trigger(models.TextChoices):
        CONNECT = "connect", "Connect"
        MANUAL = "manual", "Test now"
        SCHEDULED = "scheduled", "Health check"
        ROTATE = "rotate", "Key rotation"

    connection = models.ForeignKey(ExchangeConnection, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    ok = models.BooleanField()
    code = models.CharField(max_length=32, choices=TestCode.choices)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    objects = ConnectionCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["connection", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.checked_at:%Y-%m-%d %H:%M} {self.code}"


class Candle(models.Model):
    """One OHLCV candle of a public market, as the exchange recorded it (UTC open time).

    Market data, not a user's: no owner and no gate. The unique constraint's index (exchange,
    symbol, timeframe, open_time) is also the index every range read uses: equality on the first
    three columns, a range on the open time. Prices and volumes keep the exchange's decimals.
    """

    exchange = models.CharField(max_length=32)
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=8)
    open_time = models.DateTimeField()
    open = models.DecimalField(max_digits=38, decimal_places=18)
    high = models.DecimalField(max_digits=38, decimal_places=18)
    low = models.DecimalField(max_digits=38, decimal_places=18)
    close = models.DecimalField(max_digits=38, decimal_places=18)
    volume = models.DecimalField(max_digits=38, decimal_places=18)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "symbol", "timeframe", "open_time"], name="candle_unique_open_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.exchange} {self.symbol} {self.timeframe} {self.open_time:%Y-%m-%d %H:%M}"
