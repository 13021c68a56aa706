"""`manage.py backtest` as an operator runs it: one backtest or a search in the foreground, progress as it
goes, a summary table at the end (the top N of a search), the job stored like any other; refusals name
their fields."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analytics.models import Backtest
from tests.analytics.backtest_jobs import import_daily

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily_btc(db):
    """The shipped daily BTC/USDT candles in the test database."""
    import_daily("BTC")


COMMON = ["--user", "owner@example.com", "--symbol", "BTC/USDT", "--timeframe", "1d"]
RANGE = ["--start", "2022-01-01", "--end", "2024-12-31"]


def backtest(*arguments: str) -> str:
    out = StringIO()
    call_command("backtest", *COMMON, *RANGE, *arguments, stdout=out)
    return out.getvalue()


def test_one_backtest_prints_its_progress_and_a_summary_table(daily_btc, owner):
    output = backtest("--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30")
    stored = Backtest.objects.get(user=owner)
    assert stored.status == "done" and stored.params == {"fast": 10, "slow": 30}
    lines = output.splitlines()
    assert lines[0] == f"Backtest #{stored.pk}: {stored} (single run)"
    assert any(line.strip().startswith("30 %") and "candles loaded" in line for line in lines)
    assert any(line.strip() == "100 %  Done" for line in lines)
    net = stored.results["metrics"]["net_return"] * 100
    assert any(line.startswith("Net return") and line.endswith(f"{net:,.2f} %") for line in lines)
    assert "Buy and hold: final equity" in output and "probability of ruin" in output


def test_an_optimisation_on_local_processes_prints_the_top_parameter_sets(daily_btc, owner):
    output = backtest(
        "--strategy",
        "sma_cross",
        "--optimise",
        "--grid",
        "fast=5:20:5",
        "--grid",
        "slow=30,60",
        "--metric",
        "calmar",
        "--workers",
        "2",
        "--top",
        "3",
    )
    stored = Backtest.objects.get(user=owner)
    assert stored.status == "done" and stored.kind == "optimisation"
    assert stored.steps_done == stored.steps_total == 8
    assert "Top 3 of 8 by calmar:" in output
    best = stored.results["ranking"]["rows"][0]["params"]
    assert f"Best parameters: {best}" in output
    table = output.split("Top 3 of 8 by calmar:")[1].splitlines()
    assert table[1].split()[:2] == ["#", "Parameters"]
    assert table[3].split()[:2] == ["1", f"fast={best['fast']},"]


def test_a_walk_forward_prints_its_windows(daily_btc, owner):
    output = backtest(
        "--strategy", "ema_cross", "--walk-forward", "300:200", "--grid", "fast=5,10", "--grid", "slow=30,60"
    )
    assert "3 walk-forward windows:" in output
    assert Backtest.objects.get(user=owner).kind == "walk_forward"


def test_refused_input_names_each_field_and_stores_nothing(daily_btc, owner):
    with pytest.raises(CommandError) as refused:
        backtest("--strategy", "sma_cross", "--param", "fast=40", "--param", "slow=20", "--fee", "0.5")
    assert "params.fast: The fast period (40) must be shorter than the slow one (20)." in str(refused.value)
    assert "execution.fee:" in str(refused.value)
    with pytest.raises(CommandError) as zero_step:
        backtest("--strategy", "sma_cross", "--optimise", "--grid", "fast=5:50:0", "--grid", "slow=100")
    assert "search.space: fast: give min <= max and a positive step." in str(zero_step.value)
    with pytest.raises(CommandError, match="No account"):
        call_command("backtest", "--user", "nobody@example.com", "--strategy", "sma_cross", *RANGE)
    assert not Backtest.objects.exists()
