"""Backtests as stored jobs: what was asked (strategy, parameters, market, range, execution), how far the
run got, and what it found.

A row is written by `analytics.services.backtest_create` (queued), claimed by the worker with a
conditional update (queued -> running), moved forward by conditional updates of its progress, and
finished once (running -> done | failed; queued or running -> cancelled). Results are one JSON document
built by `analytics.backtest.jobs` from the engine's answer, so the page, the API and the command read the
same figures: trades, the equity curve (downsampled for drawing when long), metrics, the benchmark,
exposure; for an optimisation the ranking; for a walk-forward its windows and stitched out-of-sample
equity; Monte Carlo percentiles from the trades.

Numbers inside `results` are floats (the engine's), `initial_cash` is the one Decimal the person typed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cryptovault.access import OwnedQuerySet


class BacktestKind(models.TextChoices):
    SINGLE = "single", "Single run"
    OPTIMISATION = "optimisation", "Parameter optimisation"
    WALK_FORWARD = "walk_forward", "Walk-forward analysis"


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


SUMMARY_KEYS = ("net_return", "final_equity", "sharpe", "max_drawdown", "round_trips", "benchmark_return")
ACTIVE_STATUSES = (BacktestStatus.QUEUED, BacktestStatus.RUNNING)
FINISHED_STATUSES = (BacktestStatus.DONE, BacktestStatus.FAILED, BacktestStatus.CANCELLED)


class BacktestQuerySet(OwnedQuerySet):
    def active(self) -> BacktestQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def done(self) -> BacktestQuerySet:
        return self.filter(status=BacktestStatus.DONE)

    def without_results(self) -> BacktestQuerySet:
        """Lists never need the (possibly large) results document."""
        return self.defer("results")


class Backtest(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backtests")
    kind = models.CharField(max_length=16, choices=BacktestKind.choices, default=BacktestKind.SINGLE)
    strategy = models.CharField(max_length=40, help_text="A registered strategy (analytics.backtest.strategies).")
    params = models.JSONField(
        default=dict, blank=True, help_text="The strategy's parameters, checked; for a search, the fixed ones."
    )
    search = models.JSONField(
        default=dict,
        blank=True,
        help_text="Optimisation and walk-forward: method (grid, random), space, count, seed, metric, train, test.",
    )
    symbol = models.CharField(max_length=32)
    timeframe = models.CharField(max_length=8)
    start = models.DateTimeField()
    end = models.DateTimeField()
    execution = models.JSONField(
        default=dict, blank=True, help_text="The execution model: fee, slippage, sizing, stop-loss, take-profit."
    )
    initial_cash = models.DecimalField(max_digits=24, decimal_places=8, default=Decimal("10000"))
    status = models.CharField(max_length=16, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100.")
    progress_message = models.CharField(max_length=200, blank=True)
    # Parallel chunks of an optimisation count their work here (a conditional F() update each).
    steps_done = models.PositiveIntegerField(default=0)
    steps_total = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict, blank=True)
    # The few figures lists show (from results["metrics"] when done), so a list never reads the results.
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = BacktestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="backtest_user_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="backtest_progress_at_most_100"),
            models.CheckConstraint(condition=Q(start__lte=models.F("end")), name="backtest_start_before_end"),
            models.CheckConstraint(condition=Q(initial_cash__gt=0), name="backtest_initial_cash_positive"),
        ]

    def __str__(self) -> str:
        return f"Backtest #{self.pk} {self.strategy} {self.symbol} {self.timeframe}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_done(self) -> bool:
        return self.status == BacktestStatus.DONE

    @property
    def metrics(self) -> dict:
        return (self.results or {}).get("metrics") or {}

    @property
    def params_text(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in (self.params or {}).items())

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
