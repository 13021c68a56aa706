"""The new-backtest form: shapes what a person types into what `backtest_create` takes.

Every strategy's parameters are fields of their own, named `<strategy>__<parameter>` and grouped per
strategy (static/js/backtests.js shows only the chosen strategy's group; without JavaScript they all
show and only the chosen one's are read). Fields are made from each strategy's `Params.fields()`, so a
new strategy needs nothing here. The form checks shapes only: what is acceptable (bounds, fast < slow,
candles in the range) is the service's, and its per-field errors come back onto these fields through
`FIELD_OF`.
"""

from __future__ import annotations

from typing import Any

from django import forms

from analytics.backtest.execution import SIZING_MODELS, SLIPPAGE_MODELS
from analytics.backtest.jobs import RANK_METRICS, SEARCH_METHODS, parse_space_text
from analytics.backtest.strategies import STRATEGIES
from analytics.models import BacktestKind
from exchanges.market.candles import TIMEFRAMES

DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
SLIPPAGE_LABELS = {"none": "None", "fixed": "Fixed (basis points)", "volume": "Volume-based"}
SIZING_LABELS = {"all_in": "All in", "fixed_fraction": "Fixed fraction of equity", "kelly": "Kelly (capped)"}
# The service's field names -> this form's, for the ones that differ.
FIELD_OF = {
    "execution.fee": "fee",
    "execution.slippage": "slippage",
    "execution.slippage_bps": "slippage_bps",
    "execution.impact_bps": "impact_bps",
    "execution.sizing": "sizing",
    "execution.fraction": "fraction",
    "execution.stop_loss": "stop_loss",
    "execution.take_profit": "take_profit",
    "search.method": "search_method",
    "search.space": "search_space",
    "search.count": "search_count",
    "search.seed": "search_seed",
    "search.metric": "metric",
    "search.train": "train",
    "search.test": "test",
}


def param_field_name(strategy: str, name: str) -> str:
    return f"{strategy}__{name}"


def _param_field(spec: dict[str, Any]) -> forms.Field:
    common = {
        "required": False,
        "help_text": f"{spec['help']} From {spec['min']:g} to {spec['max']:g}; default {spec['default']:g}.",
        "widget": forms.TextInput(attrs=NUMBER | {"placeholder": f"{spec['default']:g}"}),
    }
    if spec["type"] == "int":
        return forms.IntegerField(**common)
    return forms.FloatField(**common)


class BacktestForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=BacktestKind.choices, initial=BacktestKind.SINGLE)
    strategy = forms.ChoiceField(
        label="Strategy", choices=[(name, strategy.label) for name, strategy in STRATEGIES.items()]
    )
    symbol = forms.ChoiceField(label="Market", choices=())
    timeframe = forms.ChoiceField(label="Timeframe", choices=[(tf, tf) for tf in TIMEFRAMES], initial="1d")
    start = forms.DateField(label="From", widget=DAY_INPUT, help_text="UTC, from the day's first candle.")
    end = forms.DateField(label="To", widget=DAY_INPUT, help_text="UTC, to the day's last candle.")
    initial_cash = forms.DecimalField(
        label="Initial cash (USDT)",
        initial=10000,
        max_digits=24,
        decimal_places=8,
        widget=forms.TextInput(attrs=NUMBER),
    )
    fee = forms.FloatField(
        label="Fee per side",
        initial=0.001,
        help_text="A fraction of the traded value: 0.001 is 0.1 %.",
        widget=forms.TextInput(attrs=NUMBER),
    )
    slippage = forms.ChoiceField(label="Slippage", choices=[(m, SLIPPAGE_LABELS[m]) for m in SLIPPAGE_MODELS])
    slippage_bps = forms.FloatField(
        label="Slippage (basis points)",
        required=False,
        help_text="1 bp = 0.01 %.",
        widget=forms.TextInput(attrs=NUMBER),
    )
    impact_bps = forms.FloatField(
        label="Impact (bp per 1 % of a candle's volume)",
        required=False,
        help_text="Volume-based slippage only.",
        widget=forms.TextInput(attrs=NUMBER),
    )
    sizing = forms.ChoiceField(label="Position sizing", choices=[(m, SIZING_LABELS[m]) for m in SIZING_MODELS])
    fraction = forms.FloatField(
        label="Fraction of equity",
        required=False,
        help_text="Fixed fraction (and Kelly before enough trades): 0.5 holds half.",
        widget=forms.TextInput(attrs=NUMBER),
    )
    stop_loss = forms.FloatField(
        label="Stop-loss",
        required=False,
        help_text="Below the entry: 0.05 sells 5 % lower.",
        widget=forms.TextInput(attrs=NUMBER),
    )
    take_profit = forms.FloatField(
        label="Take-profit",
        required=False,
        help_text="Above the entry: 0.2 sells 20 % higher.",
        widget=forms.TextInput(attrs=NUMBER),
    )
    search_method = forms.ChoiceField(
        label="Search",
        choices=[(m, "Grid: every combination" if m == "grid" else "Random draws") for m in SEARCH_METHODS],
    )
    search_space = forms.CharField(
        label="Parameters to vary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "fast=5:30:5\nslow=40,60,100"}),
        help_text="One per line: name=from:to:step or name=a,b,c. Others keep the values above.",
    )
    search_count = forms.IntegerField(
        label="Random draws", required=False, min_value=1, widget=forms.TextInput(attrs=NUMBER)
    )
    search_seed = forms.IntegerField(
        label="Random seed", required=False, initial=0, widget=forms.TextInput(attrs=NUMBER)
    )
    metric = forms.ChoiceField(label="Rank by", choices=list(RANK_METRICS.items()))
    train = forms.IntegerField(
        label="In-sample candles", required=False, min_value=2, help_text="Walk-forward: each optimisation window."
    )
    test = forms.IntegerField(
        label="Out-of-sample candles", required=False, min_value=2, help_text="Walk-forward: each test window."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from trading.filters import symbol_choices

        self.fields["symbol"].choices = symbol_choices()
        self.strategy_groups: list[dict[str, Any]] = []
        for name, strategy in STRATEGIES.items():
            names = []
            for param, spec in strategy.params.fields().items():
                field_name = param_field_name(name, param)
                field = _param_field(spec)
                field.label = param.replace("_", " ").capitalize()
                self.fields[field_name] = field
                names.append(field_name)
            self.strategy_groups.append(
                {"name": name, "label": strategy.label, "description": strategy.description, "fields": names}
            )

    def groups(self) -> list[dict[str, Any]]:
        """Each strategy's bound parameter fields, for the template."""
        return [group | {"bound": [self[name] for name in group["fields"]]} for group in self.strategy_groups]

    def service_input(self) -> dict[str, Any]:
        """The cleaned data as `backtest_create`'s keyword arguments."""
        data = self.cleaned_data
        strategy = data["strategy"]
        params = {
            param: data[param_field_name(strategy, param)]
            for param in STRATEGIES[strategy].params.fields()
            if data.get(param_field_name(strategy, param)) is not None
        }
        execution = {
            name: data[name]
            for name in (
                "fee",
                "slippage",
                "slippage_bps",
                "impact_bps",
                "sizing",
                "fraction",
                "stop_loss",
                "take_profit",
            )
            if data.get(name) not in (None, "")
        }
        search: dict[str, Any] = {}
        if data["kind"] != BacktestKind.SINGLE:
            search = {
                "method": data["search_method"],
                "space": parse_space_text((data.get("search_space") or "").splitlines()),
                "metric": data["metric"],
            }
            if data["search_method"] == "random":
                search |= {"count": data.get("search_count"), "seed": data.get("search_seed") or 0}
            if data["kind"] == BacktestKind.WALK_FORWARD:
                search |= {"train": data.get("train"), "test": data.get("test")}
            # A parameter varied is not also fixed.
            params = {name: value for name, value in params.items() if name not in search["space"]}
        return {
            "kind": data["kind"],
            "strategy": strategy,
            "symbol": data["symbol"],
            "timeframe": data["timeframe"],
            "start": data["start"],
            "end": data["end"],  # a date: the service reads it as the whole day
            "initial_cash": data["initial_cash"],
            "params": params,
            "execution": execution,
            "search": search,
        }

    def field_for(self, service_field: str) -> str | None:
        """Where the service's error on `service_field` shows on this form."""
        if service_field.startswith("params."):
            name = param_field_name(self.cleaned_data.get("strategy", ""), service_field.removeprefix("params."))
            return name if name in self.fields else None
        name = FIELD_OF.get(service_field, service_field)
        return name if name in self.fields else None
