"""Price alerts: "tell me when BTC/USDT reaches 70,000" or "when ETH is down 5% over 24 h".

An alert is evaluated against every price tick (`trading.services.alerts.alerts_evaluate`) and
fires once: it moves from `active` to `fired` with the price, the time and the source of the tick
that reached it, and stays fired. What an alert may hold (a followed market, a bound threshold
of the right kind, a short printable note) is checked here in `clean()`, so the page, the API
and the admin store the same things.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cryptovault.access import OwnedQuerySet
from exchanges.errors import UnknownSymbol
from exchanges.market.symbols import parse_symbol

MAX_PRICE = Decimal(10) ** 12  # a price alert's threshold, in the quote currency (USDT)
MAX_PERCENT = Decimal(1000)  # a 24 h change alert's threshold, in percent
NOTE_MAX_LENGTH = 200


class AlertKind(models.TextChoices):
    ABOVE = "above", "Price at or above"
    BELOW = "below", "Price at or below"
    CHANGE_UP = "change_up", "24 h change up by at least (%)"
    CHANGE_DOWN = "change_down", "24 h change down by at least (%)"


PRICE_KINDS = frozenset({AlertKind.ABOVE, AlertKind.BELOW})
CHANGE_KINDS = frozenset({AlertKind.CHANGE_UP, AlertKind.CHANGE_DOWN})


class AlertStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FIRED = "fired", "Fired"
    CANCELLED = "cancelled", "Cancelled"


def validate_printable(value: str) -> None:
    if any(not char.isprintable() for char in value):
        raise ValidationError("Use printable characters only (no line breaks or control characters).")


def condition_holds(kind: str, threshold: Decimal, *, last: Decimal, change_24h_pct: Decimal) -> bool:
    """Whether an alert of `kind` at `threshold` is reached by a tick: exact decimals, the one rule."""
    if kind == AlertKind.ABOVE:
        return last >= threshold
    if kind == AlertKind.BELOW:
        return last <= threshold
    if kind == AlertKind.CHANGE_UP:
        return change_24h_pct >= threshold
    if kind == AlertKind.CHANGE_DOWN:
        return change_24h_pct <= -threshold
    return False


class PriceAlertQuerySet(OwnedQuerySet):
    def active(self) -> PriceAlertQuerySet:
        return self.filter(status=AlertStatus.ACTIVE)


class PriceAlert(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="price_alerts")
    symbol = models.CharField(max_length=32, help_text="A followed market, stored as BASE/QUOTE (BTC/USDT).")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    threshold = models.DecimalField(
        max_digits=38, decimal_places=18, help_text="A price (above, below) or a percentage (change_up, change_down)."
    )
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.ACTIVE)
    note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True, validators=[validate_printable])
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # What the tick that fired it said, so the owner knows which price (and which source) it was.
    fired_at = models.DateTimeField(null=True, blank=True)
    fired_price = models.DecimalField(max_digits=38, decimal_places=18, null=True, blank=True)
    fired_change_pct = models.DecimalField(
        max_digits=38, decimal_places=18, null=True, blank=True, help_text="The 24 h change (%) at that tick."
    )
    fired_source = models.CharField(max_length=32, blank=True, help_text="`binance`, `replay`, ...")
    fired_source_label = models.CharField(max_length=200, blank=True)

    objects = PriceAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Every tick asks for the active alerts of its symbols: only those rows are indexed.
            models.Index(fields=["symbol", "kind", "threshold"], condition=Q(status="active"), name="alert_active_idx"),
            models.Index(fields=["user", "status"], name="alert_user_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gt=0), name="alert_threshold_positive"),
            models.CheckConstraint(
                condition=~Q(status="fired") | Q(fired_at__isnull=False, fired_price__isnull=False),
                name="alert_fired_has_price",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.kind} {self.threshold_text}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.symbol:
            try:
                self.symbol = parse_symbol(self.symbol)
            except UnknownSymbol as exc:
                errors["symbol"] = exc.message
        if isinstance(self.threshold, Decimal) and self.kind in AlertKind.values:
            if not self.threshold.is_finite() or self.threshold <= 0:
                errors["threshold"] = "Enter a threshold greater than 0."
            elif self.kind in PRICE_KINDS and self.threshold > MAX_PRICE:
                errors["threshold"] = f"A price threshold is at most {MAX_PRICE:,f}."
            elif self.kind in CHANGE_KINDS and self.threshold > MAX_PERCENT:
                errors["threshold"] = f"A change threshold is at most {MAX_PERCENT:,f}%."
            elif self.kind == AlertKind.CHANGE_DOWN and self.threshold >= 100:
                errors["threshold"] = "A price cannot fall by 100% or more: enter less than 100."
        self.note = (self.note or "").strip()
        if errors:
            raise ValidationError(errors)

    @property
    def is_active(self) -> bool:
        return self.status == AlertStatus.ACTIVE

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGE_KINDS

    @property
    def threshold_text(self) -> str:
        """`65,000` or `5%`: how pages, emails and the admin say the threshold."""
        number = plain(self.threshold)
        return f"{number}%" if self.is_change else number

    @property
    def fired_price_text(self) -> str:
        return plain(self.fired_price)

    @property
    def condition_text(self) -> str:
        """The alert in words: "BTC/USDT at or above 65,000", "ETH/USDT down 5% or more in 24 h"."""
        words: dict[str, str] = {
            AlertKind.ABOVE: f"{self.symbol} at or above {self.threshold_text}",
            AlertKind.BELOW: f"{self.symbol} at or below {self.threshold_text}",
            AlertKind.CHANGE_UP: f"{self.symbol} up {self.threshold_text} or more in 24 h",
            AlertKind.CHANGE_DOWN: f"{self.symbol} down {self.threshold_text} or more in 24 h",
        }
        return words.get(self.kind, f"{self.symbol} {self.kind} {self.threshold_text}")


def plain(value: Decimal | None) -> str:
    """A decimal as people write it: 65,000.5 rather than 65000.500000000000000000."""
    if value is None:
        return ""
    return f"{value.normalize():,f}" if value.is_finite() else str(value)
