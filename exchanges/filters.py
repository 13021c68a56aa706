"""What a trader can ask of their connections: one FilterSet for the connections page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from exchanges.catalogue import exchange_choices
from exchanges.models import ExchangeConnection, Status


class ExchangeConnectionFilterSet(django_filters.FilterSet):
    """Narrows connections already behind the read gate (revoked ones only when asked for)."""

    exchange = django_filters.ChoiceFilter(
        choices=exchange_choices,
        empty_label="Any exchange",
        label="Exchange",
        help_text="An exchange id, e.g. `binance`.",
    )
    status = django_filters.ChoiceFilter(
        choices=Status.choices,
        empty_label="Any status",
        label="Status",
        help_text="`connected`, `degraded`, `error` or `revoked`.",
    )
    q = django_filters.CharFilter(
        method="filter_q", label="Nickname", max_length=64, help_text="Part of the nickname, any case."
    )

    class Meta:
        model = ExchangeConnection
        fields = ["exchange", "status", "q"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(nickname__icontains=value.strip())
