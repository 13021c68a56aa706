from django.contrib import admin

from cryptovault.admin_gate import StaffGateAdminMixin
from security.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    """The audit log is evidence: staff read and search it, nobody edits or deletes it."""

    list_display = ["created_at", "action", "outcome", "via", "actor_email", "ip", "request_id"]
    list_filter = ["action", "outcome", "via", "created_at"]
    search_fields = ["actor_email", "user__email", "ip", "request_id", "action"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
