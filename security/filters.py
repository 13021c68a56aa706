"""What a person can ask of their security activity: one FilterSet for the page and the API.

The activity page renders its filter form from `AuditEventFilterSet` and the API list reads the
same query parameters through DRF's DjangoFilterBackend, the way NetBox shares one FilterSet
between a list view and its viewset. A filter added here appears on the page, in the API and in
the OpenAPI document at once, and a page's query string asks the API the same question. Bad input
(a date that is not one, an address that is not an IP) is a form error on the page and a 400 with
per-field messages in the API, never silently dropped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.choices import CallableChoiceIterator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from security.actions import AUDIT_ACTIONS
from security.models import AuditEvent
from security.selectors import audit_action_choices

# `refused`: an action refused before it ran (from outside the IP allowlist, security.ip_allowlist).
OUTCOME_CHOICES = [("success", "Succeeded"), ("failure", "Failed"), ("refused", "Refused")]
DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # the browser's date picker


@extend_schema_field(OpenApiTypes.STR)
class IPAddressFilter(django_filters.Filter):
    """One IPv4 or IPv6 address, validated (and IPv6 normalised) the way the model stores it."""

    field_class = forms.GenericIPAddressField


class AuditEventFilterSet(django_filters.FilterSet):
    """Narrows records already behind the read gate; days are the person's own (their time zone)."""

    action = django_filters.ChoiceFilter(
        # Any registered action (security.actions): one that is not is a 400, never an empty answer.
        # The page's select offers only the actions present in the records (set in __init__).
        choices=list(AUDIT_ACTIONS.items()),
        empty_label="Any activity",
        label="Activity",
        help_text="One action exactly as recorded, e.g. `auth.signed_in`.",
    )
    outcome = django_filters.ChoiceFilter(
        choices=OUTCOME_CHOICES,
        empty_label="Any outcome",
        label="Outcome",
        help_text="`success`, `failure`, or `refused` (refused before it ran: outside your IP allowlist).",
    )
    created_after = django_filters.DateFilter(
        method="filter_created_after",
        label="From",
        widget=DAY_INPUT,
        help_text="Records on or after this day (YYYY-MM-DD, in your time zone).",
    )
    created_before = django_filters.DateFilter(
        method="filter_created_before",
        label="To",
        widget=DAY_INPUT,
        help_text="Records on or before this day (YYYY-MM-DD, in your time zone).",
    )
    ip = IPAddressFilter(method="filter_ip", label="IP address", help_text="The client address the action came from.")

    class Meta:
        model = AuditEvent
        fields = ["action", "outcome", "created_after", "created_before", "ip"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        super().__init__(data, queryset, request=request, prefix=prefix)
        # Days start at midnight where the person lives, as their pages show times; UTC otherwise.
        self.timezone: tzinfo = getattr(getattr(request, "user", None), "timezone", None) or UTC
        # Read only when the page renders the form: the API never pays for this query.
        self.form.fields["action"].widget.choices = CallableChoiceIterator(lambda: self.action_choices)

    @cached_property
    def action_choices(self) -> list[tuple[str, str]]:
        """The actions these records hold, labelled, and the one asked for even if they hold none."""
        asked = str(self.data.get("action", "") or "") if self.is_bound else ""
        return [("", "Any activity"), *audit_action_choices(self.queryset, including=asked.strip())]

    def filter_created_after(self, queryset: QuerySet[AuditEvent], name: str, value: date) -> QuerySet[AuditEvent]:
        return queryset.filter(created_at__gte=self._midnight(value))

    def filter_created_before(self, queryset: QuerySet[AuditEvent], name: str, value: date) -> QuerySet[AuditEvent]:
        if value == date.max:
            return queryset  # the last day the calendar has: nothing comes after it
        return queryset.filter(created_at__lt=self._midnight(value + timedelta(days=1)))

    def filter_ip(self, queryset: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        # A staff member's address is hidden from the user: it must not be found by guessing either.
        return queryset.filter(ip=value).exclude(details__has_key="by_staff")

    def _midnight(self, day: date) -> datetime:
        """The start of `day` in the person's time zone (a range on the indexed column, not a cast)."""
        try:
            return datetime.combine(day, time.min, tzinfo=self.timezone).astimezone(UTC)
        except OverflowError:  # 0001-01-01 east of Greenwich starts before the calendar does
            return datetime.min.replace(tzinfo=UTC)
