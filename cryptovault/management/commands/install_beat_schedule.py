from django.core.management.base import BaseCommand

from cryptovault.beat import beat_schedule_install


class Command(BaseCommand):
    help = "Install the periodic task schedule declared in cryptovault/beat.py into django-celery-beat."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Show what would change and change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        changes = beat_schedule_install(dry_run=dry_run)
        prefix = "[dry run] " if dry_run else ""
        for kind in ("created", "updated", "deleted", "unchanged"):
            for name in changes[kind]:
                self.stdout.write(f"{prefix}{kind:9} {name}")
        total = sum(len(names) for kind, names in changes.items() if kind != "unchanged")
        self.stdout.write(self.style.SUCCESS(f"{prefix}Beat schedule installed: {total} change(s)."))
