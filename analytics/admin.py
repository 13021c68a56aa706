"""Backtests in the admin: read-only. A backtest is created by its owner (page, API, command) and written
by the worker through analytics.services; staff read the list and the settings, never edit or add."""

from __future__ import annotations

from django.contrib import admin

from analytics.models import Backtest
from cryptovault.admin_gate import ReadOnlyAdminMixin, StaffGateAdminMixin


@admin.register(Backtest)
class BacktestAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "user", "kind", "strategy", "symbol", "timeframe", "status", "progress", "created_at"]
    list_filter = ["status", "kind", "strategy"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = [
        "user",
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
        "task_id",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("results")
