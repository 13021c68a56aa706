"""What the backups API reads and answers. Parsing only: backups.services decides."""

from __future__ import annotations

from rest_framework import serializers

from backups.models import Backup


class BackupSerializer(serializers.ModelSerializer):
    # Plain strings, not enums: other apps' `kind` and `status` already name enums in the schema.
    kind = serializers.CharField(read_only=True, help_text="`scheduled`, `manual` or `pre_restore`.")
    status = serializers.CharField(
        read_only=True, help_text="`running`, `succeeded`, `failed` or `verified` (proved to restore)."
    )
    requested_by = serializers.SerializerMethodField()

    class Meta:
        model = Backup
        fields = [
            "id",
            "kind",
            "engine",
            "database",
            "status",
            "storage_name",
            "size",
            "dump_size",
            "checksum",
            "key_id",
            "table_counts",
            "error",
            "verify_error",
            "started_at",
            "finished_at",
            "verified_at",
            "requested_by",
            "requested_via",
        ]
        read_only_fields = fields

    def get_requested_by(self, backup: Backup) -> str | None:
        return backup.requested_by.email if backup.requested_by else None


class BackupAcceptedSerializer(serializers.Serializer):
    backup = BackupSerializer()
    task_id = serializers.CharField(help_text="The Celery task doing the work; watch the backup's status.")


class RestoreSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=["scratch", "live"])
    database = serializers.CharField(
        required=False, allow_blank=True, max_length=63, help_text="scratch: the database to restore into."
    )
    confirm = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text="live: the live database's name, typed."
    )


class BackupBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    verify_error = serializers.CharField()


class BackupStatusSerializer(serializers.Serializer):
    healthy = serializers.BooleanField()
    last_success = BackupBriefSerializer(allow_null=True)
    last_failure = BackupBriefSerializer(allow_null=True)
    newest_verified = BackupBriefSerializer(allow_null=True)
    running = serializers.IntegerField()
    count = serializers.IntegerField()
    total_size = serializers.IntegerField()
    next_backup_at = serializers.DateTimeField()
    next_prune_at = serializers.DateTimeField()
    retention_days = serializers.IntegerField()
