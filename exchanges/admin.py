"""The admin over exchange connections: whose, which exchange, how healthy; never the keys.

The sealed key, secret and passphrase columns appear on no list, form or page here, not even as
ciphertext: staff identify a key by its last four characters, as its owner does. Connecting needs
the owner's keys (the wizard or the API), so nothing is added here; revoking is the soft delete,
so nothing is deleted. Admins act through two audited actions that call the same services as the
owner's pages: run a health check, and revoke (after a confirmation page). Support (view-only staff,
see accounts.services.roles) reads the lists and pages and is offered neither action.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from cryptovault.admin_gate import StaffGateAdminMixin
from cryptovault.pages import page_actor
from exchanges.errors import ConnectionRevoked
from exchanges.models import ConnectionCheck, ExchangeConnection
from exchanges.services.connections import connection_revoke
from exchanges.services.health import connection_check

RECENT_CHECKS = 20

# The confirmation step of "Revoke" (Django's intermediate-page pattern, as accounts' "Delete
# accounts"). Kept beside the action it belongs to; it lists nickname, exchange, owner and key hint only.
REVOKE_CONFIRM = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}{% load i18n %}
{% block breadcrumbs %}<div class="breadcrumbs">
  <a href="{% url 'admin:index' %}">{% translate 'Home' %}</a> &rsaquo;
  <a href="{% url 'admin:exchanges_exchangeconnection_changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
  &rsaquo; {% translate 'Revoke connections' %}
</div>{% endblock breadcrumbs %}
{% block content %}{% if connections %}
  <p>{% blocktranslate trimmed count counter=connections|length %}
    This connection will be revoked: its keys are wiped from our database and nothing uses it again.
    Its owner must connect the account again with new keys, and should delete the key on the exchange too.
    This cannot be undone.
  {% plural %}
    These {{ counter }} connections will be revoked: their keys are wiped from our database and nothing uses
    them again. Their owners must connect the accounts again with new keys, and should delete the keys on the
    exchanges too. This cannot be undone.
  {% endblocktranslate %}</p>
  <ul>{% for connection in connections %}
    <li>{{ connection.nickname }} ({{ connection.exchange }}, {% translate 'key' %} …{{ connection.key_hint }})
      — {{ connection.user.email }}</li>
  {% endfor %}</ul>
  <form method="post">{% csrf_token %}
    {% for connection in connections %}
      <input type="hidden" name="{{ action_checkbox_name }}" value="{{ connection.pk }}">
    {% endfor %}
    <input type="hidden" name="action" value="revoke">
    <input type="hidden" name="confirmed" value="yes">
    <input type="submit" value="{% translate 'Yes, revoke them' %}">
    <a href="{% url 'admin:exchanges_exchangeconnection_changelist' %}" class="button cancel-link">
      {% translate 'No, take me back' %}</a>
  </form>
{% else %}
  <p>{% translate 'Nothing to revoke: the selected connections are revoked already.' %}</p>
  <p><a href="{% url 'admin:exchanges_exchangeconnection_changelist' %}">
    {% translate 'Back to the connections' %}</a></p>
{% endif %}{% endblock content %}"""
)


@admin.register(ExchangeConnection)
class ExchangeConnectionAdmin(StaffGateAdminMixin, admin.ModelAdmin):
    """Every connection with its owner and health, for answering "why is my exchange red?".

    Read-only: the page shows what the owner's card shows (status, last error, latency, what the
    exchange reports about the key, the last checks), and the two actions are the only writes.
    """

    list_display = [
        "nickname",
        "user",
        "exchange",
        "sandbox",
        "status",
        "last_checked_at",
        "latency_ms",
        "last_error_code",
        "key",
        "created_at",
    ]
    list_filter = ["exchange", "status", "sandbox", "last_error_code"]
    search_fields = ["nickname", "user__email", "key_hint"]
    list_select_related = ["user"]
    # Named one by one (never "all fields"), so a sealed column can never slip onto the page.
    fieldsets = (
        (None, {"fields": ("user", "exchange", "nickname", "sandbox", "features")}),
        (
            _("Health"),
            {"fields": ("status", "last_checked_at", "latency_ms", "last_error_code", "consecutive_failures")},
        ),
        (
            _("Key"),
            {
                "fields": (
                    "key",
                    "keys_set_at",
                    "key_created_at",
                    "key_can_withdraw",
                    "key_ip_restricted",
                    "key_can_trade",
                )
            },
        ),
        (_("Dates"), {"fields": ("created_at", "updated_at", "revoked_at")}),
        (_("Recent checks"), {"fields": ("recent_checks",)}),
    )
    readonly_fields = [name for _, section in fieldsets for name in section["fields"]]
    actions = ["run_health_check", "revoke"]

    # --- write surface: none outside the actions ------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # connecting needs the owner's keys: the wizard or the API

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the owner renames; staff only check and revoke

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoking is the soft delete; the row stays for the audit trail

    def has_check_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exchanges.change_exchangeconnection")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("exchanges.change_exchangeconnection")

    # --- columns ----------------------------------------------------------------------------------
    @admin.display(description=_("key"), ordering="key_hint")
    def key(self, connection: ExchangeConnection) -> str:
        return f"…{connection.key_hint}" if connection.key_hint else "—"

    @admin.display(description=_("last checks (newest first)"))
    def recent_checks(self, connection: ExchangeConnection) -> str:
        checks = ConnectionCheck.objects.filter(connection=connection).order_by("-checked_at", "-id")[:RECENT_CHECKS]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{check.checked_at:%Y-%m-%d %H:%M:%S}",
                    check.get_trigger_display(),
                    check.get_code_display(),
                    f"{check.latency_ms} ms" if check.latency_ms is not None else "—",
                )
                for check in checks
            ),
        )
        if not rows:
            return _("No checks yet.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("when"),
            _("trigger"),
            _("result"),
            _("latency"),
            rows,
        )

    # --- actions ----------------------------------------------------------------------------------
    @admin.action(description=_("Run health check"), permissions=["check"])
    def run_health_check(self, request: HttpRequest, queryset: QuerySet[ExchangeConnection]) -> None:
        """Test the selected connections' keys now, as their owner's "Test now" does (audited)."""
        actor, ok, failed, skipped = page_actor(request), 0, 0, 0
        for connection in queryset.select_related("user"):
            try:
                result = connection_check(actor=actor, connection=connection, trigger=ConnectionCheck.Trigger.MANUAL)
            except ConnectionRevoked:
                skipped += 1
                continue
            if result.ok:
                ok += 1
            else:
                failed += 1
        message = _("Checked %(count)s connection(s): %(ok)s ok, %(failed)s failed.") % {
            "count": ok + failed,
            "ok": ok,
            "failed": failed,
        }
        if skipped:
            message += " " + _("Skipped %(count)s revoked connection(s).") % {"count": skipped}
        self.message_user(request, message, messages.WARNING if failed else messages.SUCCESS)

    @admin.action(description=_("Revoke (wipe the keys)"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ExchangeConnection]):
        """Asks once, naming every connection, before wiping their keys (it cannot be undone)."""
        active = queryset.active().select_related("user")
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Revoke these connections?"),
                "opts": self.model._meta,
                "connections": list(active),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, REVOKE_CONFIRM, context)
        actor, revoked = page_actor(request), 0
        for connection in active:
            connection_revoke(actor=actor, connection=connection)
            revoked += 1
        self.message_user(request, _("Revoked %(count)s connection(s).") % {"count": revoked}, messages.SUCCESS)
