"""One service tells a user what happened: stored for the notification centre, pushed to their open
pages, and sent by email and SMS as their preferences and the priority say, after commit, through the
Celery task that retries each channel on its own. SMS goes through the real twilio client to a loopback
Twilio; email lands in the locmem outbox. Critical alerts cannot be turned off."""

from __future__ import annotations

import re
import string
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import NotificationChannel, NotificationPreference
from accounts.models.notifications import DeliveryStatus, Notification, NotificationDelivery
from accounts.notification_events import NOTIFICATION_EVENTS
from accounts.notifications import EVENT_TYPES
from accounts.notify import notify
from accounts.services.verification import email_verification_send
from accounts.tasks import deliver_notification, retry_delay
from tests.factories import TEST_ACTOR, UserFactory
from tests.fakes.twilio import FROM_NUMBER, FakeTwilio, TwilioError
from tests.live_events import GroupListener

pytestmark = pytest.mark.django_db

PHONE = "+447700900123"
SERVER_ERROR = TwilioError(500, 20500, "Internal Server Error")
WITHDRAWAL = {"amount": Decimal("0.25000000"), "asset": "BTC", "network": "BTC", "address": "bc1qexample"}


@pytest.fixture
def twilio():
    with FakeTwilio() as fake, override_settings(**fake.settings()):
        yield fake


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    """notify(...) in a transaction that commits: what leaves after commit has left when it returns."""

    def run(**kwargs) -> Notification | None:
        with django_capture_on_commit_callbacks(execute=True):
            return notify(**kwargs)

    return run


def with_phone(user):
    user.phone, user.phone_verified_at = PHONE, timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])
    return user


def turn_off(user, category: str, *channels: str) -> None:
    for channel in channels:
        NotificationPreference.objects.update_or_create(
            user=user, event_type=category, channel=channel, defaults={"enabled": False}
        )


def turn_on(user, category: str, channel: str) -> None:
    NotificationPreference.objects.update_or_create(
        user=user, event_type=category, channel=channel, defaults={"enabled": True}
    )


def deliveries(notification: Notification) -> dict[str, tuple[str, int]]:
    return {d.channel: (d.status, d.attempts) for d in NotificationDelivery.objects.filter(notification=notification)}


# --- the registry ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(NOTIFICATION_EVENTS))
def test_every_event_follows_a_known_preference_and_renders_from_the_context_it_documents(key):
    event = NOTIFICATION_EVENTS[key]
    assert event.category in EVENT_TYPES, f"{key}: category {event.category!r} is not on the profile's grid"
    used = {
        name
        for template in (event.title, event.body, event.link)
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }
    assert used <= set(event.context_keys), f"{key} uses {sorted(used - set(event.context_keys))} it does not list"


def test_the_security_alerts_the_issue_names_are_registered_and_the_serious_ones_are_critical():
    for key in (
        "security.new_sign_in",
        "security.locked_out",
        "security.two_factor_disabled",
        "security.password_changed",
        "security.api_key_created",
        "security.exchange_key_failing",
        "security.ip_allowlist_changed",
        "security.withdrawal_address_added",
        "security.withdrawal_requested",
    ):
        assert NOTIFICATION_EVENTS[key].category == "security"
    assert {k for k, e in NOTIFICATION_EVENTS.items() if e.priority == "critical"} >= {
        "security.two_factor_disabled",
        "security.password_changed",
        "security.withdrawal_address_added",
        "security.withdrawal_requested",
        "security.ip_allowlist_changed",
    }


# --- fan-out per preferences -----------------------------------------------------------------------------
def test_by_default_a_security_alert_is_pushed_to_open_pages_and_emailed_with_html_and_text(told, owner, twilio):
    with_phone(owner)  # a phone alone does not add SMS: security alerts default to the app and email
    with GroupListener(owner) as listener:
        notification = told(user=owner, event="security.api_key_created", context={"key_name": "Trading bot"})
        (pushed,) = listener.notifications()

    assert notification.title == "New API key: Trading bot" and notification.read_at is None
    assert pushed["id"] == notification.pk and pushed["event"] == "security.api_key_created"
    assert (pushed["title"], pushed["priority"], pushed["link"], pushed["unread"]) == (
        "New API key: Trading bot",
        "high",
        "/accounts/api-keys/",
        1,
    )
    (email,) = mail.outbox
    assert email.to == [owner.email] and email.subject.endswith("New API key: Trading bot")
    assert "“Trading bot” was created" in email.body and "http://" in email.body  # the link, absolute
    ((html, mimetype),) = email.alternatives
    assert mimetype == "text/html" and "Trading bot" in html
    assert twilio.messages == []
    assert deliveries(notification) == {"in_app": ("sent", 0), "email": ("sent", 1)}


def test_a_category_the_owner_set_to_sms_only_is_texted_through_twilio_and_neither_emailed_nor_pushed(
    told, owner, twilio
):
    with_phone(owner)
    turn_off(owner, "wallet", NotificationChannel.IN_APP, NotificationChannel.EMAIL)
    turn_on(owner, "wallet", NotificationChannel.SMS)
    with GroupListener(owner) as listener:
        notification = told(user=owner, event="wallet.withdrawal_completed", context=WITHDRAWAL)
        assert listener.notifications() == []

    (text,) = twilio.messages
    assert (text.to, text.from_) == (PHONE, FROM_NUMBER)
    assert text.body == "CryptoVault: Withdrawal completed: 0.25 BTC"
    assert mail.outbox == []
    assert notification.read_at is not None, "not shown in the app: kept in the centre, already read"
    assert deliveries(notification) == {"sms": ("sent", 1)}


def test_orders_stay_in_the_app_until_the_owner_turns_their_email_on(told, owner):
    context = {"title": "Order filled: BTC/USDT", "body": "Bought 0.1 BTC.", "link": "/orders/1/", "order_id": 1}
    told(user=owner, event="orders.filled", context=context)
    assert mail.outbox == []

    turn_on(owner, "orders", NotificationChannel.EMAIL)
    told(user=owner, event="orders.filled", context=context)
    (email,) = mail.outbox
    assert "Bought 0.1 BTC." in email.body


def test_with_every_channel_of_its_kind_off_nothing_is_stored_or_sent(told, owner):
    turn_off(owner, "alerts", *NotificationChannel.values)
    assert (
        told(user=owner, event="alerts.price_alert_fired", context={"title": "BTC", "body": "up", "link": ""}) is None
    )
    assert not Notification.objects.filter(user=owner).exists() and mail.outbox == []


def test_an_sms_preference_without_a_verified_phone_is_skipped_and_says_why(told, owner, twilio):
    turn_on(owner, "security", NotificationChannel.SMS)
    notification = told(user=owner, event="security.api_key_created", context={"key_name": "k"})
    sms = notification.deliveries.get(channel="sms")
    assert (sms.status, sms.last_error) == ("skipped", "No verified phone number on the account.")
    assert twilio.messages == [] and len(mail.outbox) == 1


# --- critical alerts cannot be turned off ----------------------------------------------------------------
def test_a_critical_alert_reaches_the_app_email_and_a_verified_phone_with_every_preference_off(told, owner, twilio):
    with_phone(owner)
    turn_off(owner, "security", *NotificationChannel.values)
    with GroupListener(owner) as listener:
        notification = told(user=owner, event="security.withdrawal_requested", context=WITHDRAWAL)
        (pushed,) = listener.notifications()

    assert pushed["priority"] == "critical"
    (email,) = mail.outbox
    assert "A withdrawal of 0.25 BTC on BTC to bc1qexample was requested" in email.body
    assert "critical security alert" in email.body and "cannot be turned off" in email.body
    (text,) = twilio.messages
    assert text.to == PHONE and text.body.startswith("CryptoVault: Withdrawal requested: 0.25 BTC http")
    assert deliveries(notification) == {"in_app": ("sent", 0), "email": ("sent", 1), "sms": ("sent", 1)}


def test_a_critical_alert_without_a_verified_phone_goes_in_the_app_and_by_email(told, owner, twilio):
    turn_off(owner, "security", *NotificationChannel.values)
    owner.phone = PHONE  # typed but never confirmed
    owner.save(update_fields=["phone"])
    notification = told(user=owner, event="security.password_changed")
    assert set(deliveries(notification)) == {"in_app", "email"}
    assert twilio.messages == [] and len(mail.outbox) == 1


def test_any_event_sent_with_critical_priority_is_critical(told, owner):
    turn_off(owner, "exchanges", *NotificationChannel.values)
    context = {"nickname": "Main", "exchange": "Binance", "link": "/exchanges/", "connection_id": 1}
    notification = told(user=owner, event="exchanges.connection_revoked", priority="critical", context=context)
    assert notification.priority == "critical" and len(mail.outbox) == 1


def test_the_profile_says_critical_alerts_cannot_be_turned_off(owner_client):
    assert "they cannot be turned off" in owner_client.get("/accounts/profile/").content.decode()


# --- after commit, and each channel on its own -----------------------------------------------------------
def test_nothing_leaves_when_the_change_it_announces_rolls_back(owner, twilio):
    with_phone(owner)
    with GroupListener(owner) as listener:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(user=owner, event="security.password_changed")
            raise RuntimeError("the password change failed")
        assert listener.notifications() == []
    assert not Notification.objects.filter(user=owner).exists()
    assert mail.outbox == [] and twilio.messages == []


def test_a_failing_sms_provider_does_not_hold_up_the_email_and_the_sms_is_retried_then_given_up(
    told, owner, twilio, settings
):
    settings.NOTIFICATION_MAX_RETRIES = 3
    with_phone(owner)
    twilio.fail_with(SERVER_ERROR)  # Twilio answers 500 to every message
    notification = told(user=owner, event="security.two_factor_disabled")

    (email,) = mail.outbox
    assert "Two-factor authentication was turned off" in email.body
    sms = notification.deliveries.get(channel="sms")
    assert (sms.status, sms.attempts) == (DeliveryStatus.FAILED, 4), "the first try and 3 retries"
    assert sms.last_error == "The text message could not be sent. Try again in a minute."
    assert twilio.auth_token not in sms.last_error and twilio.account_sid not in sms.last_error
    assert notification.deliveries.get(channel="email").status == DeliveryStatus.SENT


class FlakyTwilio(FakeTwilio):
    """Twilio answering 500 to the first message only."""

    def __init__(self) -> None:
        super().__init__()
        self.failures_left = 1

    @property
    def failure(self):
        if self.failures_left:
            self.failures_left -= 1
            return SERVER_ERROR
        return None

    @failure.setter
    def failure(self, value) -> None:
        pass


def test_an_sms_refused_once_is_retried_and_sent(told, owner):
    with_phone(owner)
    with FlakyTwilio() as twilio, override_settings(**twilio.settings()):
        notification = told(user=owner, event="security.locked_out")
    (text,) = twilio.messages
    assert text.body == "CryptoVault: Sign-in locked after failed attempts http://127.0.0.1:8000/security/"
    sms = notification.deliveries.get(channel="sms")
    assert (sms.status, sms.attempts, sms.last_error) == (DeliveryStatus.SENT, 2, "")


def test_a_delivery_already_sent_is_not_sent_again_when_its_task_runs_twice(told, owner):
    notification = told(user=owner, event="security.password_changed")
    email = notification.deliveries.get(channel="email")
    assert deliver_notification.apply(args=[email.pk]).get() == "not pending"
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.attempts == 1


@pytest.fixture
def queued_but_not_sent(django_capture_on_commit_callbacks):
    """notify(...) committed, but the hand-over to the worker never happened (the broker was down)."""

    def run(**kwargs) -> Notification:
        with django_capture_on_commit_callbacks(execute=False):
            return notify(**kwargs)

    return run


def test_a_redelivered_task_does_not_send_again_while_the_first_worker_is_still_sending(queued_but_not_sent, owner):
    """acks_late: a worker lost (or a Redis visibility timeout) hands the same message to a second worker."""
    from accounts.notify import delivery_claim, delivery_record, delivery_send

    notification = queued_but_not_sent(user=owner, event="security.password_changed")
    email = notification.deliveries.get(channel="email")
    first = delivery_claim(email.pk)  # worker A has it and is stuck talking to a slow mail server
    assert first is not None

    assert deliver_notification.apply(args=[email.pk]).get() == "not pending"  # worker B, the same message
    assert mail.outbox == [], "not sent by the second worker"

    delivery_send(first)  # worker A gets through
    delivery_record(first)
    assert len(mail.outbox) == 1
    assert deliveries(notification)["email"] == (DeliveryStatus.SENT, 1)


def test_a_failed_attempt_goes_back_to_pending_for_its_retry(owner, django_capture_on_commit_callbacks):
    from accounts.notify import delivery_claim, delivery_record

    with django_capture_on_commit_callbacks(execute=False):
        notification = notify(user=owner, event="security.password_changed")
    email = notification.deliveries.get(channel="email")
    claimed = delivery_claim(email.pk)
    assert deliveries(notification)["email"] == (DeliveryStatus.SENDING, 1)
    delivery_record(claimed, error="The mail server refused it (SMTPServerDisconnected).")
    assert deliveries(notification)["email"] == (DeliveryStatus.PENDING, 1)
    assert delivery_claim(email.pk) is not None, "the retry may claim it again"


def requeue(at):
    from accounts.tasks import requeue_stale_deliveries

    with time_machine.travel(at, tick=False):
        return requeue_stale_deliveries.apply().get()


def test_an_alert_the_broker_never_took_is_sent_by_the_sweeper_after_two_minutes(queued_but_not_sent, owner):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        notification = queued_but_not_sent(user=owner, event="security.withdrawal_address_added")
    assert mail.outbox == [] and deliveries(notification)["email"] == (DeliveryStatus.PENDING, 0)

    requeue(start + timedelta(seconds=90))
    assert mail.outbox == [], "not yet: the task may still be on its way"

    requeue(start + timedelta(minutes=2, seconds=1))
    assert len(mail.outbox) == 1
    assert deliveries(notification)["email"] == (DeliveryStatus.SENT, 1)
    requeue(start + timedelta(minutes=10))
    assert len(mail.outbox) == 1, "sent once"


def test_a_delivery_whose_worker_died_while_sending_is_sent_again_after_fifteen_minutes(queued_but_not_sent, owner):
    from accounts.notify import delivery_claim

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        notification = queued_but_not_sent(user=owner, event="security.password_changed")
        email = notification.deliveries.get(channel="email")
        assert delivery_claim(email.pk) is not None  # the worker took it, then its process was killed

    requeue(start + timedelta(minutes=14))
    assert mail.outbox == [], "a slow send is not taken from a worker still at it"

    requeue(start + timedelta(minutes=15, seconds=1))
    assert len(mail.outbox) == 1
    assert deliveries(notification)["email"] == (DeliveryStatus.SENT, 2), "the lost attempt counts"


def test_the_sweeper_keeps_to_the_retry_budget(queued_but_not_sent, owner, settings):
    settings.NOTIFICATION_MAX_RETRIES = 3
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        notification = queued_but_not_sent(user=owner, event="security.password_changed")
    NotificationDelivery.objects.filter(notification=notification, channel="email").update(
        status=DeliveryStatus.SENDING, attempts=4, claimed_at=start
    )  # the last of 1 + 3 attempts, whose worker died

    requeue(start + timedelta(hours=1))
    assert mail.outbox == []
    email = notification.deliveries.get(channel="email")
    assert (email.status, email.attempts) == (DeliveryStatus.FAILED, 4)
    assert email.last_error


def test_the_sweeper_runs_every_five_minutes():
    from cryptovault.beat import BEAT_SCHEDULE, Every

    (entry,) = [entry for entry in BEAT_SCHEDULE.values() if entry["task"] == "accounts.requeue_stale_deliveries"]
    assert entry["schedule"] == Every(seconds=300)


def test_retries_back_off_exponentially_up_to_the_cap(settings):
    settings.NOTIFICATION_RETRY_BACKOFF_SECONDS = 30
    settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 3600
    assert [retry_delay(n) for n in range(9)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_context_value_is_shown_as_a_person_reads_it(told, owner):
    owner.timezone = "Europe/Paris"
    owner.save(update_fields=["timezone"])
    usable = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    context = {"label": "Cold wallet", "asset": "ETH", "network": "ETH", "usable_from": usable}
    notification = told(user=owner, event="security.withdrawal_address_added", context=context)
    assert "It can be used from 2026-12-02 10:30 CET." in notification.body
    assert notification.payload["usable_from"] == "2026-12-02T09:30:00Z", "the payload keeps the machine form"


def test_an_anonymised_account_is_told_nothing(told, owner):
    owner.anonymised_at = timezone.now()
    owner.save(update_fields=["anonymised_at"])
    assert told(user=owner, event="security.password_changed") is None
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_real_worker_delivers_an_email_queued_after_commit(celery_worker, settings):
    settings.NOTIFICATION_DELIVERY_EAGER = False
    settings.NOTIFICATION_TASK_QUEUE = celery_worker.queue
    user = UserFactory()
    notification = notify(user=user, event="security.password_changed")  # autocommit: queued at once
    email = notification.deliveries.get(channel="email")
    deadline = time.monotonic() + 30
    while email.status == DeliveryStatus.PENDING and time.monotonic() < deadline:
        time.sleep(0.2)
        email.refresh_from_db()
    assert (email.status, email.attempts) == (DeliveryStatus.SENT, 1), "sent by the worker process"
    assert mail.outbox == [], "not sent by this process"


# --- the anti-phishing code in every email ---------------------------------------------------------------
def anti_phishing_line(code: str) -> str:
    return f"Your anti-phishing code: {code}"


def test_a_verification_email_and_a_notification_email_show_the_users_anti_phishing_code(
    told, owner, django_capture_on_commit_callbacks
):
    owner.anti_phishing_code = "purple-otter-42"
    owner.save(update_fields=["anti_phishing_code"])
    with django_capture_on_commit_callbacks(execute=True):
        email_verification_send(actor=TEST_ACTOR, user=owner)
    told(user=owner, event="security.password_changed")

    verification, notification = mail.outbox
    for email in (verification, notification):
        assert anti_phishing_line("purple-otter-42") in email.body
        html = email.alternatives[0][0]
        assert re.search(r"Your anti-phishing code: <strong>purple-otter-42</strong>", html)


def test_without_an_anti_phishing_code_the_emails_do_not_mention_one(told, owner):
    told(user=owner, event="security.password_changed")
    (email,) = mail.outbox
    assert "anti-phishing" not in email.body and "anti-phishing" not in email.alternatives[0][0]


def test_the_password_reset_email_shows_the_anti_phishing_code_too(client, owner):
    owner.anti_phishing_code = "blue-heron"
    owner.save(update_fields=["anti_phishing_code"])
    client.post("/accounts/password/reset/", {"email": owner.email})
    (email,) = mail.outbox
    assert anti_phishing_line("blue-heron") in email.body


def test_a_connection_staff_revoke_tells_its_owner_in_the_app_and_by_email(
    told, owner, django_capture_on_commit_callbacks
):
    from exchanges.services.connections import connection_revoke
    from tests.exchanges.helpers import connect

    connection = connect(owner, {"api_key": "notify-key-0001", "secret": "notify-secret-0001"}, save_untested=True)
    with GroupListener(owner) as listener:
        with django_capture_on_commit_callbacks(execute=True):
            connection_revoke(actor=TEST_ACTOR, connection=connection)  # an operator, not the owner
        (pushed,) = listener.notifications()
    assert (pushed["event"], pushed["title"], pushed["connection_id"]) == (
        "exchanges.connection_revoked",
        "Main: revoked",
        connection.pk,
    )
    (email,) = mail.outbox
    assert "was revoked by the CryptoVault team" in email.body and "Binance" in email.body
