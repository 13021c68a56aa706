"""`manage.py backtest`: run one backtest, an optimisation or a walk-forward for an operator, in the foreground,
printing progress and then a summary table (and the top N parameter sets of a search).

    manage.py backtest --user ops@example.com --strategy sma_cross --param fast=10 --param slow=30 \\
        --symbol BTC/USDT --timeframe 1d --start 2022-01-01 --end 2024-12-31
    manage.py backtest --user ops@example.com --strategy sma_cross --optimise --grid fast=5:50:5 \\
        --grid slow=60,100,200 --metric sharpe --workers 4 --top 10 ...
    manage.py backtest ... --walk-forward 365:90 --grid fast=5:30:5 --grid slow=40,60,100
    manage.py backtest ... --celery          # queue it on the Celery workers and follow it

A thin shell over analytics.services.backtest_create (the page's and the API's checks, the audit record,
the stored job the pages show) and the tasks' own code: without --celery the job runs in this process (an
optimisation's chunks on --workers local processes, each backtesting its share of the parameter sets);
with --celery it goes to the workers (BACKTEST_TASK_QUEUE) and this command follows its progress.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analytics.backtest.jobs import RANK_METRICS, evaluate_job, parse_space_text, search_sets, split
from analytics.backtest_views import METRIC_ROWS
from analytics.models import Backtest, BacktestKind, BacktestStatus
from analytics.services import (
    PROGRESS_HOOKS,
    backtest_claim,
    backtest_create,
    backtest_enqueue,
    backtest_plan,
    max_parameter_sets,
)
from cryptovault.actor import Actor

FINISHED = (BacktestStatus.DONE, BacktestStatus.FAILED, BacktestStatus.CANCELLED)


def _pair(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CommandError(f"{text!r}: write name=value.")
    value = value.strip()
    try:
        number = float(value)
        return name.strip(), int(number) if number.is_integer() and "." not in value else number
    except ValueError:
        return name.strip(), value


def format_figure(value: Any, kind: str) -> str:
    from analytics.templatetags.backtest_display import figure

    return figure(value, kind)


class Command(BaseCommand):
    help = "Run a backtest (or an optimisation, or a walk-forward) in the foreground and print its summary."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The email of the account the backtest is stored under.")
        parser.add_argument("--strategy", required=True, help="A registered strategy: sma_cross, ema_cross, ...")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="A strategy parameter.")
        parser.add_argument("--symbol", default="BTC/USDT")
        parser.add_argument("--timeframe", default="1d")
        parser.add_argument("--start", required=True, help="YYYY-MM-DD or an ISO date and time (UTC).")
        parser.add_argument("--end", required=True, help="YYYY-MM-DD (the whole day) or an ISO date and time (UTC).")
        parser.add_argument("--cash", default="10000", help="Initial cash in USDT (default 10000).")
        parser.add_argument("--fee", type=float, help="Fee per side as a fraction (default 0.001).")
        parser.add_argument("--slippage", choices=["none", "fixed", "volume"])
        parser.add_argument("--slippage-bps", type=float)
        parser.add_argument("--impact-bps", type=float)
        parser.add_argument("--sizing", choices=["all_in", "fixed_fraction", "kelly"])
        parser.add_argument("--fraction", type=float)
        parser.add_argument("--stop-loss", type=float)
        parser.add_argument("--take-profit", type=float)
        search = parser.add_mutually_exclusive_group()
        search.add_argument("--optimise", action="store_true", help="Search the --grid space, ranked by --metric.")
        search.add_argument("--walk-forward", metavar="TRAIN:TEST", help="Walk-forward windows, in candles.")
        parser.add_argument("--grid", action="append", default=[], metavar="NAME=SPEC", help="from:to:step or a,b,c.")
        parser.add_argument("--random", type=int, metavar="N", help="Draw N sets at random instead of the whole grid.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--metric", default="sharpe", choices=list(RANK_METRICS))
        parser.add_argument("--top", type=int, default=10, help="Rows of the ranking to print (default 10).")
        parser.add_argument("--workers", type=int, default=1, help="Local processes for an optimisation's chunks.")
        parser.add_argument("--celery", action="store_true", help="Run it on the Celery workers and follow it.")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(email__iexact=options["user"]).first()
        if user is None:
            raise CommandError(f"No account with the email {options['user']!r}.")
        kind = BacktestKind.SINGLE
        search: dict[str, Any] = {}
        if options["optimise"] or options["walk_forward"]:
            kind = BacktestKind.OPTIMISATION if options["optimise"] else BacktestKind.WALK_FORWARD
            try:
                space = parse_space_text(options["grid"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            search = {"method": "random" if options["random"] else "grid", "space": space, "metric": options["metric"]}
            if options["random"]:
                search |= {"count": options["random"], "seed": options["seed"]}
            if options["walk_forward"]:
                train, _, test = options["walk_forward"].partition(":")
                if not (train.isdigit() and test.isdigit()):
                    raise CommandError("--walk-forward takes TRAIN:TEST, whole numbers of candles.")
                search |= {"train": int(train), "test": int(test)}
        execution = {
            name: options[name]
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
            if options.get(name) is not None
        }
        try:
            backtest = backtest_create(
                actor=Actor.for_command("backtest", user=user),
                user=user,
                kind=kind,
                strategy=options["strategy"],
                params=dict(_pair(text) for text in options["param"]),
                symbol=options["symbol"],
                timeframe=options["timeframe"],
                start=options["start"],
                end=options["end"],  # a bare date: the whole day (the service reads it so for every caller)
                initial_cash=options["cash"],
                execution=execution,
                search=search,
                enqueue=False,
            )
        except ValidationError as error:
            lines = [f"  {name}: {' '.join(messages)}" for name, messages in error.message_dict.items()]
            raise CommandError("The backtest was refused:\n" + "\n".join(lines)) from None
        self.stdout.write(f"Backtest #{backtest.pk}: {backtest} ({backtest.get_kind_display().lower()})")
        started = time.monotonic()
        self._last = (-1, "")
        if options["celery"]:
            backtest_enqueue(backtest.pk)
            backtest = self._follow(backtest.pk)
        else:
            PROGRESS_HOOKS.append(self._print_progress)
            try:
                if kind == BacktestKind.OPTIMISATION and options["workers"] > 1:
                    self._optimise_locally(backtest, options["workers"])
                else:
                    from analytics.tasks import backtest_run

                    backtest_run.apply(args=[backtest.pk], task_id=backtest.task_id)
            finally:
                PROGRESS_HOOKS.remove(self._print_progress)
            backtest.refresh_from_db()
        self.stdout.write(f"Finished in {time.monotonic() - started:.1f} s: {backtest.get_status_display().lower()}")
        if backtest.status != BacktestStatus.DONE:
            raise CommandError(backtest.error or f"The backtest ended {backtest.status}.")
        self._summary(backtest, options["top"])

    # --- running -----------------------------------------------------------------------------------------------
    def _print_progress(self, backtest: Backtest) -> None:
        line = (backtest.progress, backtest.progress_message)
        if line != self._last:
            self._last = line
            self.stdout.write(f"  {backtest.progress:3d} %  {backtest.progress_message}")

    def _follow(self, backtest_id: int, timeout: float = 24 * 3600) -> Backtest:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            backtest = Backtest.objects.without_results().get(pk=backtest_id)
            self._print_progress(backtest)
            if backtest.status in FINISHED:
                return Backtest.objects.get(pk=backtest_id)
            time.sleep(0.5)
        raise CommandError(f"Backtest #{backtest_id} did not finish in time; it is still on the workers.")

    def _optimise_locally(self, backtest: Backtest, workers: int) -> None:
        """The chord's work with local processes: candles loaded once here, each chunk scored in a child
        (started fresh, "spawn": forking this process, which runs threads, could deadlock)."""
        from analytics.backtest.strategies import get_strategy
        from analytics.services import backtest_fail, backtest_steps
        from analytics.tasks import _candles, rank_and_finish

        if backtest_claim(backtest.pk) is None:
            raise CommandError("The backtest was taken or cancelled meanwhile.")
        try:
            sets = search_sets(
                get_strategy(backtest.strategy), backtest.params, backtest.search, limit=max_parameter_sets()
            )
            parts = split(sets, workers * 4)
            backtest_plan(
                backtest.pk, len(sets), f"{len(sets):,} parameter sets in {len(parts)} chunks, {workers} processes"
            )
            candles = _candles(backtest)
            metric = backtest.search.get("metric") or "sharpe"
            jobs = [
                (candles, backtest.strategy, part, backtest.execution, metric, float(backtest.initial_cash))
                for part in parts
            ]
            rows: list[list[dict[str, Any]]] = []
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                for done, chunk in pool.imap_unordered(evaluate_job, jobs):
                    rows.append(chunk)
                    backtest_steps(backtest.pk, done)
            backtest.refresh_from_db()
            rank_and_finish(backtest, rows)
        except ValidationError as error:
            backtest_fail(backtest.pk, " ".join(error.messages))

    # --- printing ----------------------------------------------------------------------------------------------
    def _summary(self, backtest: Backtest, top: int) -> None:
        results = backtest.results
        metrics = results.get("metrics") or {}
        rows = [(label, format_figure(metrics.get(key), kind)) for key, label, kind in METRIC_ROWS if key in metrics]
        if results.get("best_params"):
            self.stdout.write(f"Best parameters: {results['best_params']}")
        self.stdout.write("")
        self._table(("Metric", "Value"), rows)
        benchmark = results.get("benchmark")
        if benchmark:
            self.stdout.write(
                f"\nBuy and hold: final equity {format_figure(benchmark['final_equity'], 'money')}, "
                f"return {format_figure(benchmark['return'], 'pct')}"
            )
        ranking = results.get("ranking")
        if ranking:
            self.stdout.write(
                f"\nTop {min(top, len(ranking['rows']))} of {ranking['evaluated']:,} by {ranking['metric']}:"
            )
            self._table(
                ("#", "Parameters", "Score", "Net return", "Max drawdown", "Trades"),
                [
                    (
                        str(index),
                        ", ".join(f"{name}={value}" for name, value in row["params"].items()),
                        format_figure(row["score"], "ratio"),
                        format_figure(row["metrics"].get("net_return"), "pct"),
                        format_figure(row["metrics"].get("max_drawdown"), "pct"),
                        format_figure(row["metrics"].get("round_trips"), "int"),
                    )
                    for index, row in enumerate(ranking["rows"][:top], start=1)
                ],
            )
        walk = results.get("walk_forward")
        if walk:
            self.stdout.write(f"\n{len(walk['windows'])} walk-forward windows:")
            self._table(
                ("Test from", "Test to", "Parameters", "Return"),
                [
                    (
                        datetime.fromtimestamp(window["test_start"] / 1000, UTC).strftime("%Y-%m-%d"),
                        datetime.fromtimestamp(window["test_end"] / 1000, UTC).strftime("%Y-%m-%d"),
                        ", ".join(f"{name}={value}" for name, value in window["params"].items()),
                        format_figure(window["return"], "pct"),
                    )
                    for window in walk["windows"]
                ],
            )
        monte = results.get("monte_carlo") or (walk or {}).get("monte_carlo")
        if monte and not monte.get("skipped"):
            self.stdout.write(
                f"\nMonte Carlo ({monte['simulations']} resamplings of {monte['trades']} trades): final equity "
                f"p5 {format_figure(monte['final_equity']['p5'], 'money')}, p50 "
                f"{format_figure(monte['final_equity']['p50'], 'money')}, p95 "
                f"{format_figure(monte['final_equity']['p95'], 'money')}; probability of ruin "
                f"{format_figure(monte['probability_of_ruin'], 'pct')}"
            )

    def _table(self, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
        line = "  ".join(
            (f"{{:<{width}}}" if index == 0 or header[index] == "Parameters" else f"{{:>{width}}}")
            for index, width in enumerate(widths)
        )
        self.stdout.write(line.format(*header))
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in rows:
            self.stdout.write(line.format(*row))
