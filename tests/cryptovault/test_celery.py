import pytest
from django.core.cache import cache
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from cryptovault.beat import BEAT_SCHEDULE, INSTALLED_FROM_CODE, Every, beat_schedule_install
from cryptovault.celery import app as celery_app
from cryptovault.tasks import WORKER_HEARTBEAT_KEY, worker_heartbeat


@pytest.mark.django_db
def test_a_task_round_trips_through_a_real_worker_on_the_redis_broker(celery_worker, client):
    assert client.get("/health/ready").json()["worker"] == {"last_heartbeat": None, "age_s": None}

    result = worker_heartbeat.apply_async(queue=celery_worker.queue)
    beat = result.get(timeout=30)
    assert result.successful()
    assert cache.get(WORKER_HEARTBEAT_KEY) == beat, "the worker wrote to the shared cache"

    worker = client.get("/health/ready").json()["worker"]
    assert worker["last_heartbeat"] == beat["at"], "operators see when a worker last consumed the queue"
    assert 0 <= worker["age_s"] < 30


@pytest.mark.django_db(transaction=True)
def test_the_worker_reads_the_test_database_not_a_developers(celery_worker, owner, outsider):
    result = celery_app.send_task("tests.user_emails", queue=celery_worker.queue)
    assert result.get(timeout=30) == ["outsider@example.com", "owner@example.com"]


@pytest.mark.django_db
def test_the_declared_schedule_is_installed_once_and_kept_in_sync(django_capture_on_commit_callbacks):
    assert beat_schedule_install()["created"] == list(BEAT_SCHEDULE)
    task = PeriodicTask.objects.get(name="worker-heartbeat")
    assert task.task == "cryptovault.worker_heartbeat"
    assert (task.interval.every, task.interval.period) == (60, IntervalSchedule.SECONDS)
    assert beat_schedule_install()["unchanged"] == list(BEAT_SCHEDULE), "running it again changes nothing"

    changed = {"worker-heartbeat": {**BEAT_SCHEDULE["worker-heartbeat"], "schedule": Every(seconds=30)}}
    assert beat_schedule_install(changed)["updated"] == ["worker-heartbeat"]
    assert PeriodicTask.objects.get(name="worker-heartbeat").interval.every == 30


@pytest.mark.django_db
def test_entries_removed_from_code_are_uninstalled_but_hand_made_ones_stay():
    beat_schedule_install()
    PeriodicTask.objects.create(name="made-by-staff", task="x", interval=IntervalSchedule.objects.first())
    assert sorted(beat_schedule_install({})["deleted"]) == sorted(BEAT_SCHEDULE)
    assert list(PeriodicTask.objects.values_list("name", flat=True)) == ["made-by-staff"]
    assert not PeriodicTask.objects.filter(description__startswith=INSTALLED_FROM_CODE).exists()


@pytest.mark.django_db
def test_a_dry_run_changes_nothing():
    changes = beat_schedule_install(dry_run=True)
    assert changes["created"] == list(BEAT_SCHEDULE)
    assert not PeriodicTask.objects.exists()
