"""The project's settings with the backup paths and key the backup benchmark chooses (from the
environment it sets), so its objects never land in var/backups."""

import os

from cryptovault.settings import *  # noqa: F403

BACKUP_ROOT = os.environ["BENCH_BACKUP_ROOT"]
BACKUP_WORK_DIR = os.environ["BENCH_BACKUP_WORK_DIR"]
BACKUP_ENCRYPTION_KEY = os.environ["BENCH_BACKUP_KEY"]
