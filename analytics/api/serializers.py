"""The analytics API's query and answers (output only: these endpoints read)."""

from __future__ import annotations

from rest_framework import serializers

from analytics.portfolio import MAX_DAYS, MIN_DAYS

FIGURES = serializers.DictField(
    child=serializers.FloatField(allow_null=True),
    allow_null=True,
    help_text="Metric name to value (fractions: 0.12 = 12 %; ratios as numbers; drawdown positions as day "
    "indices); null where a figure does not exist. The formulas: docs/analytics.md.",
)


class AnalyticsQuerySerializer(serializers.Serializer):
    """Documents the query; `analytics.portfolio.parse_input` checks it (the page's rule too)."""

    days = serializers.IntegerField(
        required=False, min_value=MIN_DAYS, max_value=MAX_DAYS, help_text="Days of history (default 365)."
    )
    risk_free = serializers.FloatField(
        required=False, min_value=0, max_value=1, help_text="Annual risk-free rate, 0.04 = 4 % (default 0)."
    )


class EquityPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.FloatField(help_text="Total value in USDT that day.")
    flow = serializers.FloatField(help_text="Net deposits (+) and withdrawals (-) since the day before, in USDT.")
    drawdown = serializers.FloatField(help_text="Fall from the running high (0 or negative).")


class AllocationSerializer(serializers.Serializer):
    asset = serializers.CharField()
    value = serializers.FloatField()
    weight = serializers.FloatField(allow_null=True)


class StressSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value_before = serializers.FloatField()
    value_after = serializers.FloatField()
    change = serializers.FloatField()
    change_fraction = serializers.FloatField(allow_null=True)
    moves = serializers.DictField(child=serializers.FloatField(), help_text="Each held asset's implied move.")


class WeightsSerializer(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField())
    annual_return = serializers.FloatField()
    volatility = serializers.FloatField()
    sharpe = serializers.FloatField(allow_null=True)


class OptimisationSerializer(serializers.Serializer):
    min_variance = WeightsSerializer()
    max_sharpe = WeightsSerializer()


class KellySerializer(serializers.Serializer):
    kelly = serializers.FloatField(allow_null=True, help_text="The full continuous Kelly fraction.")
    suggested = serializers.FloatField(allow_null=True, help_text="Half of it, within 0 and 1.")


CORRELATION = serializers.DictField(
    child=serializers.DictField(child=serializers.FloatField(allow_null=True)),
    help_text="Pearson correlations of the held assets' daily returns, asset to asset (null: one never moves).",
)


class CommonSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    risk_free = serializers.FloatField()
    periods_per_year = serializers.IntegerField()
    candles_source = serializers.CharField(help_text="Where the daily candles came from.")
    notes = serializers.ListField(child=serializers.CharField(), help_text="Why a figure is missing.")


class PortfolioAnalyticsSerializer(CommonSerializer):
    total_value = serializers.FloatField()
    allocation = AllocationSerializer(many=True)
    equity = EquityPointSerializer(many=True)
    equity_metrics = FIGURES
    holdings_metrics = FIGURES
    correlation = CORRELATION
    stress = StressSerializer(many=True)
    optimisation = OptimisationSerializer(allow_null=True)
    kelly = serializers.DictField(child=KellySerializer())


class RiskSerializer(CommonSerializer):
    equity_metrics = FIGURES
    holdings_metrics = FIGURES
    stress = StressSerializer(many=True)
    kelly = serializers.DictField(child=KellySerializer())


class CorrelationSerializer(CommonSerializer):
    assets = serializers.ListField(child=serializers.CharField())
    correlation = CORRELATION
