"""The admin over price alerts: whose, on which market, and what fired them.

Read-only: alerts are set by their owner (page or API) and fired by the price feed, so nothing is
added, edited or deleted here. Staff with the change permission may cancel active alerts through
the same audited service as the owner's Cancel button (the audit record says staff did it).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cryptovault.admin_gate import StaffGateAdminMixin
from cryptovault.pages import page_actor
from trading.errors import AlertNotActive
from trading.models import PriceAlert
from trading.services.alerts import alert_cancel


@admin.register(PriceAlert)
class PriceAlertAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "user",
        "symbol",
        "kind",
        "threshold",
        "status",
        "created_at",
        "fired_at",
        "fired_price",
        "fired_source",
    ]
    list_filter = ["status", "kind", "symbol", "fired_source"]
    search_fields = ["user__email", "symbol", "note"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("user", "symbol", "kind", "threshold", "status", "note")}),
        (_("Dates"), {"fields": ("created_at", "cancelled_at")}),
        (
            _("Fired"),
            {"fields": ("fired_at", "fired_price", "fired_change_pct", "fired_source", "fired_source_label")},
        ),
    )
    readonly_fields = [name for _, section in fieldsets for name in section["fields"]]
    actions = ["cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # set by the owner on the alerts page or the API

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # an alert's terms are the owner's; staff only cancel

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # cancelling is the soft delete; the row stays for the record

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.change_pricealert")

    @admin.action(description=_("Cancel the selected active alerts"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[PriceAlert]) -> None:
        actor, cancelled, skipped = page_actor(request), 0, 0
        for alert in queryset.active().select_related("user"):
            try:
                alert_cancel(actor=actor, alert=alert)
            except AlertNotActive:  # fired between the list and the click
                skipped += 1
                continue
            cancelled += 1
        message = _("Cancelled %(count)s alert(s).") % {"count": cancelled}
        if skipped:
            message += " " + _("%(count)s had fired meanwhile.") % {"count": skipped}
        self.message_user(request, message, messages.SUCCESS)
