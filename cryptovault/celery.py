"""The Celery app. Tasks live in each app's tasks.py; the beat schedule in beat.py."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptovault.settings")

app = Celery("cryptovault")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _stamp_log_lines_with_task_id(task_id=None, **_):
    """Log lines from a task carry its id where a request would carry the request id."""
    from cryptovault.request_context import request_id_var

    request_id_var.set(task_id or "-")
