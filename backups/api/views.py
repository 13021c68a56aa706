"""/api/v1/backups/: staff start, list, verify and restore backups, and read their status.

Staff only: reading needs `backups.view_backup`, starting a backup or a verification `backups.add_backup`,
a restore `backups.restore_backup` too (the admin role has all three; support none). API keys are refused:
backups are operated by a person or by the schedule. The work runs on the Celery worker, so the
writes answer 202 with the backup record at once; its `status` moves on as the task goes.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from backups.api.serializers import (
    BackupAcceptedSerializer,
    BackupSerializer,
    BackupStatusSerializer,
    RestoreSerializer,
)
from backups.conf import retention_days, task_queue
from backups.models import Backup, BackupKind
from backups.selectors import backup_status, backups_for
from backups.services import backup_start, restore_plan
from cryptovault.api.permissions import StaffWithViewPermission, defaults_and
from cryptovault.api.schema import error_response
from cryptovault.api.views import ServiceApiView

TAGS = ["backups"]
ACCEPTED = {202: BackupAcceptedSerializer}


class CanRestoreBackups(BasePermission):
    message = "Restoring a backup needs the backups.restore_backup permission."

    def has_permission(self, request, view) -> bool:
        return request.method != "POST" or request.user.has_perm("backups.restore_backup")


class BackupsApiView(ServiceApiView):
    permission_classes = defaults_and(StaffWithViewPermission)
    api_key_scopes: dict[str, str] = {}
    queryset = Backup.objects.none()  # which model's permissions StaffWithViewPermission asks for

    def get_queryset(self):
        return backups_for(user=self.request.user)

    def backup(self) -> Backup:
        return generics.get_object_or_404(self.get_queryset(), pk=self.kwargs["backup_id"])

    def accepted(self, backup: Backup, task_name: str, **kwargs) -> Response:
        """Enqueue the work once the record is committed; answer with the record and the task id."""
        from celery import current_app
        from celery.utils import uuid

        task_id = uuid()
        transaction.on_commit(
            lambda: current_app.send_task(task_name, kwargs=kwargs, task_id=task_id, queue=task_queue())
        )
        data = {"backup": BackupSerializer(backup).data, "task_id": task_id}
        return Response(data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        summary="Backups (staff)",
        description="Every backup, newest first: scheduled, manual and pre-restore, with status, size, the "
        "SHA-256 of the stored object and the row counts recorded when it was taken.",
        tags=TAGS,
    ),
    post=extend_schema(
        summary="Start a backup (staff)",
        description="Records a manual backup (status `running`) and starts it on the worker; once stored it is "
        "verified (restored into a scratch database and its row counts compared). Answers 202 at once.",
        request=None,
        responses=ACCEPTED,
        tags=TAGS,
    ),
)
class BackupListCreateView(BackupsApiView, generics.ListAPIView):
    serializer_class = BackupSerializer
    filter_backends: list = []

    def post(self, request):
        backup = backup_start(actor=self.actor, kind=BackupKind.MANUAL)
        return self.accepted(backup, "backups.run", backup_id=backup.pk, user_id=request.user.pk, verify=True)


class BackupVerifyView(BackupsApiView):
    @extend_schema(
        summary="Verify a backup (staff)",
        description="Downloads it, checks its SHA-256, decrypts it, restores it into a scratch database and "
        "compares every table's row count with the recorded ones. Answers 202; the backup becomes `verified`, "
        "or `failed` with the reason when it does not restore.",
        request=None,
        responses={**ACCEPTED, 409: error_response(409, "The backup has not finished (`backup_not_ready`).")},
        tags=TAGS,
    )
    def post(self, request, backup_id: int):
        backup = self.backup()
        if not backup.restorable:
            from backups.errors import BackupNotReady

            raise BackupNotReady()
        return self.accepted(backup, "backups.verify", backup_id=backup.pk, user_id=request.user.pk)


class BackupRestoreView(BackupsApiView):
    permission_classes = [*BackupsApiView.permission_classes, CanRestoreBackups]
    input_serializer = RestoreSerializer

    @extend_schema(
        summary="Restore a backup (staff)",
        description="`target: scratch` with `database`: restore into that scratch database (created; one whose "
        "name starts with the scratch prefix is replaced). `target: live` with `confirm` set to the live "
        "database's name: take a pre-restore backup, then replace the live database. The object is checked "
        "(SHA-256, every chunk authenticated) before anything is touched. Answers 202.",
        request=RestoreSerializer,
        responses={**ACCEPTED, 409: error_response(409, "The backup has not finished (`backup_not_ready`).")},
        tags=TAGS,
    )
    def post(self, request, backup_id: int):
        backup = self.backup()
        data = self.parse()
        plan = restore_plan(
            backup=backup,
            target=data["target"],
            database=data.get("database", ""),
            confirm=data.get("confirm", ""),
            actor=self.actor,
        )
        return self.accepted(
            backup,
            "backups.restore",
            backup_id=backup.pk,
            target=plan.target,
            database=plan.database if plan.target == "scratch" else "",
            confirm=data.get("confirm", ""),
            user_id=request.user.pk,
        )


class BackupStatusView(BackupsApiView):
    @extend_schema(
        summary="Backup status (staff)",
        description="Last success and failure (with its error), the newest verified backup, how many backups "
        "are kept and their total size, and when the next backup and prune run (UTC). `healthy` is false "
        "when the last attempt failed or no backup has been verified yet.",
        responses={200: BackupStatusSerializer},
        tags=TAGS,
    )
    def get(self, request):
        report = backup_status()
        data = {
            "healthy": report.healthy,
            "last_success": report.last_success,
            "last_failure": report.last_failure,
            "newest_verified": report.newest_verified,
            "running": report.running,
            "count": report.count,
            "total_size": report.total_size,
            "next_backup_at": report.next_backup_at,
            "next_prune_at": report.next_prune_at,
            "retention_days": retention_days(),
        }
        return Response(BackupStatusSerializer(data).data)
