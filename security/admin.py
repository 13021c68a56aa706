from django.contrib import admin

from cryptovault.admin_gate import ReadOnlyAdminMixin, StaffGateAdminMixin
from security.models import AuditEvent, IpAllowlistEntry, WithdrawalAddress


class AuditActionFilter(admin.SimpleListFilter):
    """The actions the log holds, by their labels (security.actions), not their codes."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        from security.selectors import audit_action_choices

        return audit_action_choices(model_admin.get_queryset(request), including=self.value() or "")

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class AuditUserFilter(admin.SimpleListFilter):
    """One account's records: reached from the "Account" column (listing every user here would not scale)."""

    title = "account"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        value = self.value()
        if not value or not value.isdigit():
            return []
        user = get_user_model().objects.filter(pk=value).only("email").first()
        return [(value, user.email if user else f"#{value}")]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(user_id=int(value))
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    """The audit log is evidence: staff read, filter and search it; nobody adds, edits or deletes a
    record (the model, its queryset and, on PostgreSQL, a trigger refuse it too)."""

    list_display = ["created_at", "action_label", "outcome", "via", "account", "actor_email", "ip", "request_id"]
    list_filter = [AuditActionFilter, "outcome", "via", "created_at", AuditUserFilter]
    search_fields = ["actor_email", "user__email", "ip", "request_id", "action"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    show_full_result_count = False  # a large log: no second COUNT(*) per page

    @admin.display(description="action", ordering="action")
    def action_label(self, event: AuditEvent) -> str:
        from security.actions import action_label

        return action_label(event.action)

    @admin.display(description="account", ordering="user__email")
    def account(self, event: AuditEvent) -> str:
        from django.utils.html import format_html

        if event.user_id is None:
            return "—"
        return format_html(
            '<a href="?user={}" title="Only this account\'s records">{}</a>', event.user_id, event.user.email
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RemovedFilter(admin.SimpleListFilter):
    title = "removed"
    parameter_name = "removed"

    def lookups(self, request, model_admin):
        return [("no", "Active"), ("yes", "Removed")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(removed_at__isnull=self.value() == "no")
        return queryset


@admin.register(WithdrawalAddress)
class WithdrawalAddressAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: only the owner changes a whitelist, with a second factor (security.services.whitelist)."""

    list_display = ["label", "user", "asset", "network", "address", "created_at", "usable_from", "removed_at"]
    list_filter = ["asset", "network", RemovedFilter]
    search_fields = ["user__email", "label", "address"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WithdrawalAddress._meta.fields]


@admin.register(IpAllowlistEntry)
class IpAllowlistEntryAdmin(StaffGateAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff see users' IP allowlists; they remove an entry (a user locked out of every allowed
    address asks them) by an action over `ip_allowlist_remove`: audited as staff, the owner alerted."""

    list_display = ["network", "label", "user", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["network", "label", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "network", "label", "created_at"]
    actions = ["remove_entries"]

    def has_remove_permission(self, request) -> bool:
        return request.user.has_perm("security.delete_ipallowlistentry")

    @admin.action(description="Remove the selected entries (the owner is alerted)", permissions=["remove"])
    def remove_entries(self, request, queryset) -> None:
        from django.contrib import messages

        from cryptovault.errors import DomainError
        from cryptovault.pages import page_actor
        from security.services.ip_allowlist import ip_allowlist_remove

        actor, removed = page_actor(request), 0
        try:
            for entry in queryset.select_related("user"):
                ip_allowlist_remove(actor=actor, entry=entry)
                removed += 1
        except DomainError as exc:  # a stale second factor, or the staff member's own allowlist
            self.message_user(request, f"Removed {removed}; stopped: {exc.message}", messages.ERROR)
            return
        self.message_user(request, f"Removed {removed} entr{'y' if removed == 1 else 'ies'}.", messages.SUCCESS)
