"""Account work run by the Celery worker: periodic housekeeping and notification delivery."""

from __future__ import annotations

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from accounts.services.housekeeping import accounts_expired_purge


@shared_task(name="accounts.expired_purge")
def accounts_expired_purge_task() -> dict[str, int]:
    return accounts_expired_purge()


def retry_delay(retries: int) -> int:
    """Seconds before retry number `retries + 1`: 30 s, 60 s, 120 s, ... (the settings), up to the cap."""
    return get_exponential_backoff_interval(
        factor=settings.NOTIFICATION_RETRY_BACKOFF_SECONDS,
        retries=retries,
        maximum=settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,
        full_jitter=False,
    )


@shared_task(bind=True, name="accounts.deliver_notification", acks_late=True)
def deliver_notification(self, delivery_id: int) -> str:
    """Send one email or SMS delivery of a notification; retry it with backoff until it goes or gives up.

    Each channel is its own task, so a failing SMS provider never holds up the email. The row is
    claimed first (pending → sending, a conditional update), so a redelivered message cannot send
    it twice, even while the first worker is still sending. The retry budget counts the row's
    attempts (not this message's retries), so a delivery queued again by the sweeper keeps it.
    Returns the delivery's status.
    """
    from accounts.notify import (
        DeliveryFailed,
        delivery_attempts_allowed,
        delivery_claim,
        delivery_record,
        delivery_send,
    )

    delivery = delivery_claim(delivery_id)
    if delivery is None:
        return "not pending"
    try:
        delivery_send(delivery)
    except Exception as exc:  # DeliveryFailed says why; anything else is named, never its text (may hold secrets)
        error = str(exc) if isinstance(exc, DeliveryFailed) else f"Unexpected error ({exc.__class__.__name__})."
        final = delivery.attempts >= delivery_attempts_allowed()
        countdown = retry_delay(delivery.attempts - 1)
        delivery_record(delivery, error=error, final=final, retry_in=countdown)
        if final:
            return delivery.status
        raise self.retry(countdown=countdown, max_retries=settings.NOTIFICATION_MAX_RETRIES) from exc
    delivery_record(delivery)
    return delivery.status


@shared_task(name="accounts.requeue_stale_deliveries")
def requeue_stale_deliveries() -> dict[str, int]:
    """Queue again the email and SMS deliveries lost on the way (beat, every 5 minutes)."""
    from accounts.notify import deliveries_requeue_stale

    return deliveries_requeue_stale()
