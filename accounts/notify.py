"""Tell a user about something that happened: one service, `notify(user=, event=, priority=, context=)`.

The event (a key of `accounts.notification_events.NOTIFICATION_EVENTS`) gives the wording and the
preference category; the user's preferences for that category pick the channels
(`accounts.selectors.notification_preferences`). A critical notification goes in the app and by
email whatever the preferences say, and by SMS too when the phone is verified: security alerts
cannot be turned off.

Each notification is stored (`Notification`, the notification centre) with one
`NotificationDelivery` per channel. Nothing leaves before the surrounding transaction commits: the
in-app push (/ws/events, with the new unread count) is sent on commit, and email and SMS are
handed to the Celery task `accounts.deliver_notification`, one task per channel, so a failing SMS
provider never holds up the email. The task retries with exponential backoff and records the
outcome on the delivery row.

A delivery row moves pending → sending (the claim, one conditional update, so a redelivered task
cannot send it a second time while the first is at it) → sent, back to pending for a retry, or
failed once the retries are used up. The beat job `accounts.requeue_stale_deliveries`
(`deliveries_requeue_stale`) hands to the worker again what was lost on the way: a pending row
nobody took (the broker was down at commit, or a retry was never queued) and a sending row whose
worker died, within the retry budget.
"""

from __future__ import annotations

import json
import logging
import smtplib
import string
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import NotificationChannel, User
from accounts.models.notifications import DeliveryStatus, Notification, NotificationDelivery, NotificationPriority
from accounts.notification_events import NOTIFICATION_EVENTS, NotificationEvent
from accounts.notifications import forget_unread_count, refresh_unread_count, unread_count
from accounts.selectors import notification_preferences
from cryptovault.events import broadcast, user_group

logger = logging.getLogger("accounts.notify")

CHANNEL_ORDER = (NotificationChannel.IN_APP, NotificationChannel.EMAIL, NotificationChannel.SMS)
LAST_ERROR_LENGTH = 300


class _Blank(dict):
    """format_map's mapping: a key the emitter forgot renders empty (and is logged), never raises."""

    def __init__(self, values: dict[str, Any], event: str) -> None:
        super().__init__(values)
        self.event = event

    def __missing__(self, key: str) -> str:
        logger.warning("notification %s: no %r in its context", self.event, key)
        return ""


def _shown(value: Any, user: User) -> Any:
    """A context value as a person reads it: times in the user's zone, amounts without exponent."""
    if isinstance(value, datetime):
        moment = timezone.localtime(value, user.timezone) if timezone.is_aware(value) else value
        return moment.strftime("%Y-%m-%d %H:%M %Z").strip()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return value


def render(event: NotificationEvent, context: dict[str, Any], user: User) -> tuple[str, str, str]:
    """(title, body, link) of `event` over `context`."""
    values = _Blank({key: _shown(value, user) for key, value in context.items()}, event.key)
    formatter = string.Formatter()
    title, body, link = (formatter.vformat(template, (), values) for template in (event.title, event.body, event.link))
    return title[:200], body, link[:500]


def channels_for(user: User, event: NotificationEvent, priority: str) -> set[str]:
    """The channels this notification goes out on (before checking the user can be reached)."""
    if priority == NotificationPriority.CRITICAL:
        chosen: set[str] = {NotificationChannel.IN_APP, NotificationChannel.EMAIL}
        if user.phone and user.phone_verified_at:
            chosen.add(NotificationChannel.SMS)
        return chosen
    preferences = notification_preferences(user=user).get(event.category, {})
    return {channel for channel, on in preferences.items() if on}


def _unreachable(user: User, channel: str) -> str:
    """Why `channel` cannot reach `user` ("" when it can)."""
    if channel == NotificationChannel.EMAIL and not user.email:
        return "No email address on the account."
    if channel == NotificationChannel.SMS and not (user.phone and user.phone_verified_at):
        return "No verified phone number on the account."
    return ""


def _json_safe(context: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(context, cls=DjangoJSONEncoder))


def notify(
    *, user: User, event: str, priority: str | None = None, context: dict[str, Any] | None = None
) -> Notification | None:
    """Store and send `event` to `user`; None when every channel is off for it (nothing is stored).

    Call it inside the transaction that makes the change: nothing leaves unless it commits.
    `context` fills the event's templates and is kept as the notification's payload, so it must
    never hold a secret.
    """
    spec = NOTIFICATION_EVENTS[event]  # an unknown key is a programming error: fail loudly
    priority = priority or spec.priority
    if priority not in NotificationPriority.values:
        raise ValueError(f"unknown notification priority {priority!r}")
    if user.anonymised_at is not None or not user.is_active:
        return None
    context = context or {}
    channels = channels_for(user, spec, priority)
    if not channels:
        return None
    title, body, link = render(spec, context, user)
    now = timezone.now()
    in_app = NotificationChannel.IN_APP in channels
    with transaction.atomic(savepoint=False):  # the caller's transaction when there is one, no savepoint
        notification = Notification.objects.create(
            user=user,
            event=spec.key,
            category=spec.category,
            priority=priority,
            title=title,
            body=body,
            link=link,
            payload=_json_safe(context),
            created_at=now,
            # Not shown in the app: kept in the centre's history, but it never raises the badge.
            read_at=None if in_app else now,
        )
        deliveries = []
        for channel in CHANNEL_ORDER:
            if channel not in channels:
                continue
            why_not = _unreachable(user, channel)
            if channel == NotificationChannel.IN_APP:
                status, sent_at = DeliveryStatus.SENT, now
            elif why_not:
                status, sent_at = DeliveryStatus.SKIPPED, None
            else:
                status, sent_at = DeliveryStatus.PENDING, None
            deliveries.append(
                NotificationDelivery(
                    notification=notification,
                    channel=channel,
                    status=status,
                    last_error=why_not,
                    created_at=now,
                    sent_at=sent_at,
                )
            )
        NotificationDelivery.objects.bulk_create(deliveries)
    pending = [delivery for delivery in deliveries if delivery.status == DeliveryStatus.PENDING]
    if any(delivery.pk is None for delivery in pending):  # a database that returns no ids from bulk inserts
        pending = list(NotificationDelivery.objects.filter(notification=notification, status=DeliveryStatus.PENDING))
    queued = [delivery.pk for delivery in pending]
    transaction.on_commit(lambda: _after_commit(notification, in_app, queued))
    return notification


def _after_commit(notification: Notification, in_app: bool, queued: list[int]) -> None:
    """The change is committed: a failure from here on is logged, never raised into the caller."""
    if in_app:
        push_in_app(notification)
    for delivery_id in queued:
        enqueue_delivery(delivery_id)


def push_payload(notification: Notification, unread: int) -> dict[str, Any]:
    """What /ws/events carries for a notification (the page shows it and updates the badge)."""
    return {
        **{key: value for key, value in notification.payload.items() if key not in _RESERVED},
        "id": notification.pk,
        "event": notification.event,
        "event_type": notification.category,
        "priority": notification.priority,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "created_at": notification.created_at.isoformat(),
        "unread": unread,
    }


_RESERVED = {"id", "event", "event_type", "priority", "title", "body", "link", "created_at", "unread"}


def push_in_app(notification: Notification) -> None:
    try:
        forget_unread_count(notification.user_id)
        broadcast(
            user_group(notification.user_id),
            "notification",
            push_payload(notification, unread_count(notification.user)),
        )
    except Exception:  # the row is stored and shows in the centre; a dead channel layer must not undo it
        logger.exception("notification %s: the in-app push failed", notification.pk)


def enqueue_delivery(delivery_id: int) -> None:
    """Hand one email or SMS delivery to the worker (or run it here when NOTIFICATION_DELIVERY_EAGER)."""
    from accounts.tasks import deliver_notification

    if settings.NOTIFICATION_DELIVERY_EAGER:
        deliver_notification.apply(args=[delivery_id])
        return
    try:
        deliver_notification.apply_async(args=[delivery_id], queue=settings.NOTIFICATION_TASK_QUEUE or None)
    except Exception:  # the broker is down: the row stays pending, and the sweeper queues it again
        logger.exception("notification delivery %s could not be queued", delivery_id)


# A pending row this long past when it was due was never handed over (or its message was lost).
PENDING_STALE_AFTER = timedelta(minutes=2)
# A send takes seconds (the SMTP and Twilio timeouts); a row sending this long lost its worker.
SENDING_STALE_AFTER = timedelta(minutes=15)
SWEEP_BATCH = 500
WORKER_LOST = "The worker stopped during an attempt."


def delivery_attempts_allowed() -> int:
    """The first try and NOTIFICATION_MAX_RETRIES retries."""
    return settings.NOTIFICATION_MAX_RETRIES + 1


def deliveries_requeue_stale() -> dict[str, int]:
    """Queue again the email and SMS deliveries lost on the way, within their retry budget.

    Pending rows due more than PENDING_STALE_AFTER ago (never queued, or a retry never queued) are
    queued again; sending rows claimed more than SENDING_STALE_AFTER ago (the worker died) go back to
    pending and are queued again, the lost attempt counted. A row with no attempt left is failed.
    The claim (pending → sending) keeps a row queued twice from being sent twice.
    """
    now = timezone.now()
    allowed = delivery_attempts_allowed()
    rows = NotificationDelivery.objects.filter(attempts__lt=allowed)
    queued: list[int] = []

    stuck = list(
        rows.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - SENDING_STALE_AFTER)
        .order_by("claimed_at")
        .values_list("pk", "claimed_at")[:SWEEP_BATCH]
    )
    for pk, claimed_at in stuck:  # conditional: a worker that finished meanwhile keeps its outcome
        if NotificationDelivery.objects.filter(pk=pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at).update(
            status=DeliveryStatus.PENDING, retry_at=now, last_error=WORKER_LOST
        ):
            queued.append(pk)

    lost = list(
        rows.filter(status=DeliveryStatus.PENDING)
        .annotate(due=Coalesce("retry_at", "created_at"))
        .filter(due__lt=now - PENDING_STALE_AFTER)
        .order_by("due")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    # Due again from now: a row still waiting in a busy queue is not queued again at every sweep.
    NotificationDelivery.objects.filter(pk__in=lost, status=DeliveryStatus.PENDING).update(retry_at=now)
    queued.extend(lost)

    given_up = NotificationDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        attempts__gte=allowed,
        claimed_at__lt=now - SENDING_STALE_AFTER,
    ).update(status=DeliveryStatus.FAILED, retry_at=None, last_error=f"{WORKER_LOST} No retry is left.")

    for pk in queued:
        enqueue_delivery(pk)
    if queued or given_up:
        logger.warning("notification deliveries: %s queued again, %s given up", len(queued), given_up)
    return {"queued": len(queued), "failed": given_up}


# --- reading them ---------------------------------------------------------------------------------------
def unread_changed(user: User) -> None:
    """Count again (the next page's badge is a cache hit) and tell the user's other open pages."""
    try:
        count = refresh_unread_count(user)
        broadcast(user_group(user.pk), "notifications.unread", {"unread": count})
    except Exception:
        logger.exception("the unread count of user %s could not be pushed", user.pk)


def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of `user`'s notifications read (again: nothing changes)."""
    if notification.user_id != user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        if updated:
            notification.refresh_from_db(fields=["read_at"])
            transaction.on_commit(lambda: unread_changed(user))
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of `user` read; returns how many changed."""
    changed = Notification.objects.visible_to(user).unread().update(read_at=timezone.now())
    if changed:
        transaction.on_commit(lambda: unread_changed(user))
    return changed


# --- delivering email and SMS (run by the task accounts.deliver_notification) -------------------------------
class DeliveryFailed(Exception):
    """The channel did not take the message; `str()` is safe to store and show (no secret)."""


def delivery_claim(delivery_id: int) -> NotificationDelivery | None:
    """The pending delivery, now `sending` with its attempt counted; None when it is gone, done, or
    another worker is sending it.

    The claim is one conditional update, pending → sending: of two workers given the same message
    (a redelivery after a lost worker, a Redis visibility timeout), only one gets the row, even
    while the other is still in the middle of sending it.
    """
    claimed = NotificationDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now(), retry_at=None
    )
    if not claimed:
        return None
    return NotificationDelivery.objects.select_related("notification__user").get(pk=delivery_id)


def absolute_link(link: str) -> str:
    return settings.SITE_URL.rstrip("/") + link if link.startswith("/") else link


def sms_text(notification: Notification) -> str:
    text = f"{settings.SITE_NAME}: {notification.title}"
    if notification.priority == NotificationPriority.CRITICAL and notification.link:
        text += f" {absolute_link(notification.link)}"
    return text[:320]


def delivery_send(delivery: NotificationDelivery) -> None:
    """Send one delivery now; raises DeliveryFailed with a reason fit to store."""
    from accounts.services.emails import account_email
    from accounts.sms import SMSDeliveryError, sms_backend

    notification = delivery.notification
    user = notification.user
    if delivery.channel == NotificationChannel.EMAIL:
        message = account_email(
            to=user.email,
            template="notification",
            context={
                "user": user,
                "title": notification.title,
                "body": notification.body,
                "link": absolute_link(notification.link),
                "critical": notification.priority == NotificationPriority.CRITICAL,
            },
        )
        try:
            message.send()
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"The mail server refused it ({exc.__class__.__name__}).") from exc
    elif delivery.channel == NotificationChannel.SMS:
        if not (user.phone and user.phone_verified_at):
            raise DeliveryFailed("No verified phone number on the account.")
        try:
            sms_backend().send(to=user.phone, body=sms_text(notification))
        except SMSDeliveryError as exc:
            raise DeliveryFailed(str(exc)) from exc
    else:
        raise DeliveryFailed(f"Nothing to deliver on {delivery.channel}.")


def delivery_record(delivery: NotificationDelivery, *, error: str = "", final: bool = False, retry_in: int = 0) -> None:
    """The attempt's outcome on the row: sent, failed for good, or pending again with the reason,
    its retry due `retry_in` seconds from now."""
    now = timezone.now()
    retry_at = None
    if not error:
        status, sent_at = DeliveryStatus.SENT, now
    elif final:
        status, sent_at = DeliveryStatus.FAILED, None
    else:
        status, sent_at, retry_at = DeliveryStatus.PENDING, None, now + timedelta(seconds=retry_in)
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=status, sent_at=sent_at, retry_at=retry_at, last_error=error[:LAST_ERROR_LENGTH]
    )
    delivery.status, delivery.sent_at, delivery.last_error = status, sent_at, error[:LAST_ERROR_LENGTH]
    delivery.retry_at = retry_at
