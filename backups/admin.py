"""The backups admin: the list, the status above it, and the actions.

Rows are written only by backups.services, so nothing is added, edited or deleted by hand here (old
backups go through the prune). Staff holding `backups.add_backup` start a backup with the button above
the list and verify or restore to a scratch database with the actions; the work runs on the Celery
worker and the page refreshes itself while a backup is running, so staff watch it succeed and verify.
Restoring into the live database is left to `manage.py backup restore --live`, where it is typed.
"""

from __future__ import annotations

from celery import current_app
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from backups.conf import retention_days, scratch_prefix, task_queue
from backups.errors import BackupError
from backups.models import Backup, BackupKind, BackupStatus
from backups.selectors import backup_status
from backups.services import backup_start, restore_plan
from cryptovault.pages import page_actor


def enqueue(task_name: str, **kwargs) -> None:
    transaction.on_commit(lambda: current_app.send_task(task_name, kwargs=kwargs, queue=task_queue()))


@admin.register(Backup)
class BackupAdmin(admin.ModelAdmin):
    change_list_template = "admin/backups/backup/change_list.html"
    list_display = ["__str__", "kind", "status", "size", "verified_at", "requested_by", "short_error"]
    list_filter = ["status", "kind", "engine"]
    list_select_related = ["requested_by"]
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in Backup._meta.fields]
    actions = ["verify", "restore_to_scratch"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Backup]:
        return super().get_queryset(request) & Backup.objects.visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_start_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("backups.add_backup")

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("backups.restore_backup")

    @admin.display(description=_("error"))
    def short_error(self, backup: Backup) -> str:
        text = backup.error or backup.verify_error
        return text[:120] + ("…" if len(text) > 120 else "")

    # --- the status and the start button ---------------------------------------------------------
    def get_urls(self):
        start = self.admin_site.admin_view(self.start_view)
        return [path("start/", start, name="backups_backup_start"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        report = backup_status()
        context = {
            "backup_status": report,
            "retention_days": retention_days(),
            "can_start": self.has_start_permission(request),
            "refresh": report.running > 0
            or Backup.objects.filter(
                status=BackupStatus.SUCCEEDED,
                verified_at=None,
                verify_error="",
                kind__in=[BackupKind.MANUAL, BackupKind.SCHEDULED],
            ).exists(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def start_view(self, request: HttpRequest):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_start_permission(request):
            self.message_user(request, _("Starting a backup needs the backups.add_backup permission."), messages.ERROR)
        else:
            backup = backup_start(actor=page_actor(request), kind=BackupKind.MANUAL)
            enqueue("backups.run", backup_id=backup.pk, user_id=request.user.pk, verify=True)
            self.message_user(
                request,
                _("Backup #%(id)s started: it is verified once stored. This page refreshes until then.")
                % {"id": backup.pk},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:backups_backup_changelist"))

    # --- actions ---------------------------------------------------------------------------------
    @admin.action(
        description=_("Verify the selected backups (restore into scratch, compare rows)"), permissions=["start"]
    )
    def verify(self, request: HttpRequest, queryset: QuerySet[Backup]) -> None:
        started = 0
        for backup in queryset:
            if backup.restorable:
                enqueue("backups.verify", backup_id=backup.pk, user_id=request.user.pk)
                started += 1
        self.message_user(request, _("Verifying %(count)s backup(s).") % {"count": started}, messages.SUCCESS)

    @admin.action(description=_("Restore the selected backup into a scratch database"), permissions=["restore"])
    def restore_to_scratch(self, request: HttpRequest, queryset: QuerySet[Backup]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one backup to restore."), messages.WARNING)
            return
        backup = queryset.get()
        database = f"{scratch_prefix()}_{backup.pk}"
        try:
            plan = restore_plan(backup=backup, target="scratch", database=database, actor=page_actor(request))
        except BackupError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        enqueue(
            "backups.restore", backup_id=backup.pk, target="scratch", database=plan.database, user_id=request.user.pk
        )
        self.message_user(
            request,
            _("Restoring backup #%(id)s into the scratch database %(db)s.") % {"id": backup.pk, "db": plan.database},
            messages.SUCCESS,
        )
