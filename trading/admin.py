"""The trading admin: price alerts, accounts and balances, the ledger, orders and fills, equity snapshots,
withdrawals.

Everything here is read-only. Money moves only through `trading.services`, inside the transaction that
writes its ledger entries, so a form in the admin would be a door around the ledger: nothing is added,
edited or deleted on these pages. Staff act through audited actions that call the same services as the
owner's buttons (cancel an alert, cancel open orders, reset a paper account), and the audit record says
staff did it. Support (view-only staff, see `accounts.services.roles`) reads every list and page and is
offered no action. No secret is shown: an exchange account names its connection by nickname only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from cryptovault.admin_gate import ReadOnlyAdminMixin, StaffGateAdminMixin
from cryptovault.errors import DomainError
from cryptovault.pages import page_actor
from trading.errors import AlertNotActive
from trading.models import (
    OPEN_STATUSES,
    AccountKind,
    Balance,
    EquitySnapshot,
    Fill,
    LedgerEntry,
    Order,
    PriceAlert,
    TradingAccount,
    Withdrawal,
    WithdrawalStatus,
)
from trading.services.accounts import paper_account_reset
from trading.services.alerts import alert_cancel
from trading.services.orders import order_cancel
from trading.services.withdrawals import withdrawal_cancel
from trading.wallet_errors import WithdrawalNotCancellable


def fields_of(fieldsets: tuple) -> list[str]:
    """Every field a page shows, read-only: named once, in the fieldsets."""
    return [name for _, section in fieldsets for name in section["fields"]]


@admin.register(PriceAlert)
class PriceAlertAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    """Alerts are set by their owner (page or API) and fired by the price feed; staff only cancel."""

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
    readonly_fields = fields_of(fieldsets)
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


# --- accounts and balances ------------------------------------------------------------------------------

# The confirmation step of "Reset paper accounts" (Django's intermediate-page pattern, as exchanges'
# "Revoke"): a reset cancels open orders and zeroes every asset, so it names each account first.
RESET_CONFIRM = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load i18n %}
{% block breadcrumbs %}<div class="breadcrumbs">
  <a href="{% url 'admin:index' %}">{% translate 'Home' %}</a> &rsaquo;
  <a href="{% url 'admin:trading_tradingaccount_changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
  &rsaquo; {% translate 'Reset paper accounts' %}
</div>{% endblock breadcrumbs %}
{% block content %}{% if accounts %}
  <p>{% blocktranslate trimmed count counter=accounts|length %}
    This paper account will be reset: its open orders are cancelled, every asset goes to zero and it
    starts again with {{ starting }} USDT. Its history stays in the ledger.
  {% plural %}
    These {{ counter }} paper accounts will be reset: their open orders are cancelled, every asset goes to
    zero and each starts again with {{ starting }} USDT. Their history stays in the ledger.
  {% endblocktranslate %}</p>
  <ul>{% for account in accounts %}<li>{{ account.name }} — {{ account.user.email }}</li>{% endfor %}</ul>
  <form method="post">{% csrf_token %}
    {% for account in accounts %}
      <input type="hidden" name="{{ action_checkbox_name }}" value="{{ account.pk }}">
    {% endfor %}
    <input type="hidden" name="action" value="reset_paper">
    <input type="hidden" name="confirmed" value="yes">
    <input type="submit" value="{% translate 'Yes, reset them' %}">
    <a href="{% url 'admin:trading_tradingaccount_changelist' %}" class="button cancel-link">
      {% translate 'No, take me back' %}</a>
  </form>
{% else %}
  <p>{% translate 'Nothing to reset: only active paper accounts can be reset.' %}</p>
  <p><a href="{% url 'admin:trading_tradingaccount_changelist' %}">{% translate 'Back to the accounts' %}</a></p>
{% endif %}{% endblock content %}"""
)

BALANCE_FIELDS = ("asset", "total", "locked", "available", "cost_basis", "realized_pnl", "updated_at")


class BalanceInline(admin.TabularInline):
    """An account's balances on its page, as the owner's portfolio shows them; nothing to edit."""

    model = Balance
    fields = BALANCE_FIELDS
    readonly_fields = BALANCE_FIELDS
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("available"))
    def available(self, balance: Balance):
        return balance.available


@admin.register(TradingAccount)
class TradingAccountAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every trading account with its owner and balances; the only write is the audited paper reset."""

    list_display = ["name", "user", "kind", "connection", "is_active", "created_at", "synced_at", "reset_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user", "connection"]
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("user", "kind", "name", "connection", "quote_currency", "is_active")}),
        (_("Dates"), {"fields": ("created_at", "synced_at", "sync_error", "reset_at")}),
    )
    readonly_fields = fields_of(fieldsets)
    inlines = [BalanceInline]
    actions = ["reset_paper"]

    def has_reset_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.change_tradingaccount")

    @admin.action(description=_("Reset the selected paper accounts"), permissions=["reset"])
    def reset_paper(self, request: HttpRequest, queryset: QuerySet[TradingAccount]):
        """Asks once, naming every account, then resets each through the owner's own service (audited)."""
        accounts = queryset.filter(kind=AccountKind.PAPER, is_active=True).select_related("user")
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Reset these paper accounts?"),
                "opts": self.model._meta,
                "accounts": list(accounts),
                "starting": settings.PAPER_STARTING_BALANCE,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, RESET_CONFIRM, context)
        actor, reset = page_actor(request), 0
        for account in accounts:
            paper_account_reset(actor=actor, account=account)
            reset += 1
        skipped = queryset.count() - reset
        message = _("Reset %(count)s paper account(s).") % {"count": reset}
        if skipped:
            message += " " + _("Skipped %(count)s exchange or closed account(s).") % {"count": skipped}
        self.message_user(request, message, messages.SUCCESS)


@admin.register(Balance)
class BalanceAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    owner_field = "account__user"
    list_display = ["account", "owner", "asset", "total", "locked", "available", "cost_basis", "realized_pnl"]
    list_filter = ["asset", "account__kind"]
    search_fields = ["account__user__email", "asset"]
    list_select_related = ["account__user"]
    fieldsets = ((None, {"fields": ("account", *BALANCE_FIELDS)}),)
    readonly_fields = fields_of(fieldsets)

    @admin.display(description=_("owner"), ordering="account__user__email")
    def owner(self, balance: Balance) -> str:
        return balance.account.user.email

    @admin.display(description=_("available"))
    def available(self, balance: Balance):
        return balance.available


# --- the ledger ------------------------------------------------------------------------------------------


@admin.register(LedgerEntry)
class LedgerEntryAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger, as written: append-only, so nothing here adds, changes or deletes an entry.

    A correction is a new adjustment entry posted by a service, never an edit.
    """

    owner_field = "account__user"
    list_display = ["created_at", "account", "owner", "asset", "kind", "amount", "balance_after", "order", "note"]
    list_filter = ["kind", "asset", "account__kind"]
    search_fields = ["account__user__email", "note"]
    list_select_related = ["account__user", "order"]
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {"fields": ("account", "asset", "kind", "amount", "balance_after", "order", "fill", "note", "created_at")},
        ),
    )
    readonly_fields = fields_of(fieldsets)

    @admin.display(description=_("owner"), ordering="account__user__email")
    def owner(self, entry: LedgerEntry) -> str:
        return entry.account.user.email


# --- orders and fills ----------------------------------------------------------------------------------

FILL_FIELDS = ("created_at", "price", "quantity", "quote_quantity", "fee", "fee_asset", "is_maker", "exchange_trade_id")


class FillInline(admin.TabularInline):
    model = Fill
    fields = FILL_FIELDS
    readonly_fields = FILL_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Everyone's orders with what happened to them; staff cancel open ones as the owner's Cancel does."""

    list_display = [
        "__str__",
        "user",
        "account",
        "symbol",
        "side",
        "type",
        "status",
        "execution",
        "quantity",
        "quote_amount",
        "price",
        "stop_price",
        "filled_quantity",
        "average_price",
        "created_at",
    ]
    list_filter = ["status", "type", "side", "execution", "symbol", "time_in_force", "account__kind"]
    search_fields = ["user__email", "client_order_id", "exchange_order_id", "symbol"]
    list_select_related = ["user", "account"]
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("user", "account", "symbol", "side", "type", "time_in_force", "execution", "status")}),
        (
            _("Asked for"),
            {
                "fields": (
                    "quantity",
                    "quote_amount",
                    "price",
                    "stop_price",
                    "trailing_percent",
                    "trailing_amount",
                    "trail_reference",
                    "oco_leg",
                    "oco_group",
                )
            },
        ),
        (
            _("What happened"),
            {
                "fields": (
                    "filled_quantity",
                    "filled_quote",
                    "average_price",
                    "fee_total",
                    "fee_asset",
                    "reserved_asset",
                    "reserved_amount",
                    "reject_code",
                    "reject_reason",
                )
            },
        ),
        (_("Ids"), {"fields": ("client_order_id", "exchange_order_id", "request_fingerprint")}),
        (_("Dates"), {"fields": ("created_at", "triggered_at", "updated_at", "closed_at")}),
    )
    readonly_fields = fields_of(fieldsets)
    inlines = [FillInline]
    actions = ["cancel_open"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.change_order")

    @admin.action(description=_("Cancel the selected open orders"), permissions=["cancel"])
    def cancel_open(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """Each open order through `order_cancel` (reservation released, audited as staff, owner told).

        Orders re-read one by one: cancelling one OCO leg cancels its sibling, which may be selected too.
        """
        actor, cancelled, closed, failed = page_actor(request), 0, 0, 0
        for pk in queryset.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True):
            order = Order.objects.select_related("account", "user").get(pk=pk)
            if not order.is_open:
                closed += 1  # the sibling of an OCO leg cancelled just before, or filled meanwhile
                continue
            try:
                order_cancel(actor=actor, order=order)
            except DomainError:  # filled meanwhile, or the exchange refused the cancel
                failed += 1
                continue
            cancelled += 1
        message = _("Cancelled %(count)s order(s).") % {"count": cancelled}
        if closed:
            message += " " + _("%(count)s closed meanwhile (or with their OCO sibling).") % {"count": closed}
        if failed:
            message += " " + _("%(count)s could not be cancelled (filled meanwhile, or refused).") % {"count": failed}
        self.message_user(request, message, messages.WARNING if failed else messages.SUCCESS)


@admin.register(Fill)
class FillAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    owner_field = "account__user"
    list_display = [
        "created_at",
        "order",
        "account",
        "owner",
        "price",
        "quantity",
        "quote_quantity",
        "fee",
        "fee_asset",
        "is_maker",
    ]
    list_filter = ["is_maker", "order__symbol", "order__side", "account__kind"]
    search_fields = ["account__user__email", "order__client_order_id", "exchange_trade_id"]
    list_select_related = ["order", "account__user"]
    date_hierarchy = "created_at"
    fieldsets = ((None, {"fields": ("order", "account", *FILL_FIELDS)}),)
    readonly_fields = fields_of(fieldsets)

    @admin.display(description=_("owner"), ordering="account__user__email")
    def owner(self, fill: Fill) -> str:
        return fill.account.user.email


@admin.register(EquitySnapshot)
class EquitySnapshotAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The daily equity history the analytics read; written by the `trading.snapshot_equity` task only."""

    list_display = ["date", "user", "total_value", "created_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    date_hierarchy = "date"
    fieldsets = ((None, {"fields": ("user", "date", "total_value", "holdings", "created_at")}),)
    readonly_fields = fields_of(fieldsets)


# --- withdrawals ------------------------------------------------------------------------------------------


@admin.register(Withdrawal)
class WithdrawalAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every withdrawal, read-only; the one write is cancelling pending ones through the owner's service
    (a paper one credited back, the owner told, the audit record marked as staff's)."""

    list_display = ["__str__", "account", "owner", "asset", "network", "amount", "status", "created_at", "finished_at"]
    list_filter = ["status", "asset", "network", "account__kind"]
    search_fields = ["account__user__email", "address", "txid", "exchange_withdrawal_id"]
    list_select_related = ["account__user"]
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {"fields": ("account", "destination", "asset", "network", "address", "memo", "amount", "fee", "status")},
        ),
        (_("At the exchange"), {"fields": ("exchange_withdrawal_id", "txid", "failure_reason")}),
        (_("Dates"), {"fields": ("created_at", "process_after", "submitted_at", "finished_at", "updated_at")}),
    )
    readonly_fields = fields_of(fieldsets)
    actions = ["cancel_pending"]

    @admin.display(description=_("owner"), ordering="account__user__email")
    def owner(self, withdrawal: Withdrawal) -> str:
        return withdrawal.account.user.email

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.change_withdrawal")

    @admin.action(description=_("Cancel the selected pending withdrawals"), permissions=["cancel"])
    def cancel_pending(self, request: HttpRequest, queryset: QuerySet[Withdrawal]) -> None:
        actor, cancelled, skipped = page_actor(request), 0, 0
        for withdrawal in queryset.filter(status=WithdrawalStatus.PENDING).select_related("account__user"):
            try:
                withdrawal_cancel(actor=actor, withdrawal=withdrawal)
            except WithdrawalNotCancellable:  # sent or cancelled between the list and the click
                skipped += 1
                continue
            cancelled += 1
        message = _("Cancelled %(count)s withdrawal(s).") % {"count": cancelled}
        if skipped:
            message += " " + _("%(count)s had been sent meanwhile.") % {"count": skipped}
        self.message_user(request, message, messages.WARNING if skipped else messages.SUCCESS)
