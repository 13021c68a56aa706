"""What a trader can ask of their backtests: one FilterSet for the list page and the API list."""

from __future__ import annotations

import django_filters

from analytics.backtest.strategies import STRATEGIES
from analytics.models import Backtest, BacktestKind, BacktestStatus


def strategy_choices() -> list[tuple[str, str]]:
    return [(name, strategy.label) for name, strategy in STRATEGIES.items()]


class BacktestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=BacktestStatus.choices,
        empty_label="Any status",
        label="Status",
        help_text="queued, running, done, failed or cancelled.",
    )
    kind = django_filters.ChoiceFilter(
        choices=BacktestKind.choices,
        empty_label="Any kind",
        label="Kind",
        help_text="single, optimisation or walk_forward.",
    )
    strategy = django_filters.ChoiceFilter(
        choices=strategy_choices, empty_label="Any strategy", label="Strategy", help_text="A registered strategy."
    )

    class Meta:
        model = Backtest
        fields = ["status", "kind", "strategy"]
