"""The backtest API's input and answers. Input is only shaped here: `analytics.services.backtest_create`
checks it (the page's rule too) and answers per-field 400s (`strategy`, `params.fast`, `execution.fee`,
`start`, `search.space`, ...)."""

from __future__ import annotations

from rest_framework import serializers

from analytics.backtest.execution import SIZING_MODELS, SLIPPAGE_MODELS
from analytics.backtest.jobs import RANK_METRICS
from analytics.backtest.strategies import STRATEGIES
from analytics.models import Backtest, BacktestKind, BacktestStatus

STRATEGY_HELP = "One of: " + "; ".join(
    f"`{name}` ({strategy.label}: {', '.join(strategy.params.fields())})" for name, strategy in STRATEGIES.items()
)


class BacktestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=BacktestKind.choices,
        default=BacktestKind.SINGLE,
        help_text="`single` (one run), `optimisation` (search `search.space`, ranked by `search.metric`, the best "
        "run in full) or `walk_forward` (rolling in-sample optimisation over `search.train` candles, tested on "
        "the next `search.test`).",
    )
    strategy = serializers.CharField(max_length=40, help_text=STRATEGY_HELP)
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="The strategy's parameters by name (missing ones take their defaults), e.g. "
        '`{"fast": 10, "slow": 30}`. Checked by the strategy: bounds, types, fast < slow.',
    )
    symbol = serializers.CharField(max_length=32, help_text="A followed market: BTC/USDT, BTC-USDT or BTCUSDT.")
    timeframe = serializers.CharField(max_length=8, help_text="5m, 15m, 1h, 4h, 1d or 1w.")
    start = serializers.CharField(max_length=40, help_text="A date (2023-01-01) or an ISO 8601 date and time; UTC.")
    end = serializers.CharField(
        max_length=40,
        help_text="A date (the whole day) or date and time (UTC), after the start; candles opening up to it count.",
    )
    initial_cash = serializers.DecimalField(
        max_digits=24, decimal_places=8, required=False, default="10000", help_text="USDT; default 10,000."
    )
    execution = serializers.DictField(
        required=False,
        default=dict,
        help_text=f"How orders fill (all optional): `fee` per side as a fraction (0.001 = 0.1 %, the default); "
        f"`slippage` ({', '.join(SLIPPAGE_MODELS)}) with `slippage_bps`, `impact_bps`, `slippage_cap_bps`; "
        f"`sizing` ({', '.join(SIZING_MODELS)}) with `fraction`, `kelly_cap`, `kelly_min_trades`; `stop_loss` and "
        "`take_profit` as fractions of the entry price (0.05 = 5 %).",
    )
    search = serializers.DictField(
        required=False,
        default=dict,
        help_text="Optimisation and walk-forward: `method` (grid or random), `space` ({name: [values]} or {name: "
        '{"min", "max", "step"}}), `count` and `seed` for random, `metric` (' + ", ".join(RANK_METRICS) + "), "
        "`train` and `test` (candles) for walk-forward.",
    )


class BacktestSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=BacktestStatus.choices, help_text="queued, running, done, failed or cancelled."
    )
    initial_cash = serializers.DecimalField(max_digits=24, decimal_places=8)
    summary = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        help_text="When done: net_return, final_equity, sharpe, max_drawdown (fractions), round_trips, "
        "benchmark_return.",
    )

    class Meta:
        model = Backtest
        fields = [
            "id",
            "kind",
            "strategy",
            "params",
            "search",
            "symbol",
            "timeframe",
            "start",
            "end",
            "execution",
            "initial_cash",
            "status",
            "progress",
            "progress_message",
            "summary",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class BacktestDetailSerializer(BacktestSerializer):
    results = serializers.JSONField(
        help_text="When done: `metrics` (every metric of analytics.metrics on the per-candle returns, the trades' "
        "statistics, final equity, exposure, fees); `trades` (entry and exit time in UTC ms and price, qty, fees, "
        "pnl, return_pct, reason; the first 2,000, `trades_total` counts all); `equity`, `drawdown`, "
        "`benchmark_equity` as [time_ms, value] (downsampled to about 1,500 points keeping each stretch's low and "
        "high); `benchmark` (buy and hold); `exposure`; `chart` (candles [time_ms, o, h, l, c], `merged` candles "
        "each, and trade `markers`); `monte_carlo` (percentiles p5..p95 of final equity and maximum drawdown, "
        "probability of ruin); optimisation: `ranking` (`rows` of params, score, metrics) and `best_params`; "
        "walk-forward: `walk_forward` (`windows`, stitched out-of-sample `equity`, its `metrics`)."
    )

    class Meta(BacktestSerializer.Meta):
        fields = [*BacktestSerializer.Meta.fields, "results"]
        read_only_fields = fields


class CompareQuerySerializer(serializers.Serializer):
    ids = serializers.CharField(help_text="2 to 4 of your finished backtests' ids, comma-separated: `ids=12,15`.")


class ComparedBacktestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    kind = serializers.CharField()
    strategy = serializers.CharField()
    params = serializers.DictField()
    symbol = serializers.CharField()
    timeframe = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    metrics = serializers.DictField(child=serializers.FloatField(allow_null=True))
    equity = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), help_text="[time_ms, equity] points."
    )


class CompareSerializer(serializers.Serializer):
    backtests = ComparedBacktestSerializer(many=True)
