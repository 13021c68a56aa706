"""What staff can change from the admin, model by model. Anything that would be a door around
an audited service (an email address, a lockout row, a revoked token, a role group) is read-only;
a new model registered in the admin must be listed here, so its write surface is a decision."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.test import Client, RequestFactory

from tests.factories import UserFactory
from tests.helpers import admin_signed_in

pytestmark = pytest.mark.django_db

READ_ONLY = "read-only"
# model label -> (add, change, delete) for a superuser
WRITE_SURFACE = {
    "backups.Backup": (False, False, False),  # started, verified and restored by actions over the services
    "accounts.User": (True, True, False),  # add through account_created; change = the audited actions only
    "accounts.ApiKey": (False, False, False),  # revoked by an action
    "accounts.TOTPDevice": (False, False, False),
    "accounts.SMSDevice": (False, False, False),
    "accounts.RecoveryCodeDevice": (False, False, False),
    "accounts.Notification": (False, False, False),  # written by accounts.notify only
    "accounts.NotificationDelivery": (False, False, False),  # written by the delivery task only
    "account.EmailAddress": (False, False, False),
    "axes.AccessAttempt": (False, False, False),  # lifted by "Clear login lockout"
    "axes.AccessLog": (False, False, False),
    "axes.AccessFailureLog": (False, False, False),
    "auth.Group": (False, False, False),  # roles come from roles_sync
    "usersessions.UserSession": (False, False, False),
    "token_blacklist.OutstandingToken": (False, False, False),
    "token_blacklist.BlacklistedToken": (False, False, False),
    "security.AuditEvent": (False, False, False),
    "security.IpAllowlistEntry": (False, False, False),  # removed by an action over the service
    "security.WithdrawalAddress": (False, False, False),  # only the owner, with a second factor
    # Connected by the owner with their keys; checked and revoked by audited actions.
    "exchanges.ExchangeConnection": (False, False, False),
    # The periodic schedule: staff may add entries by hand (install_beat_schedule leaves them alone).
    "django_celery_beat.PeriodicTask": (True, True, True),
    "django_celery_beat.ClockedSchedule": (True, True, True),
    "django_celery_beat.CrontabSchedule": (True, True, True),
    "django_celery_beat.SolarSchedule": (True, True, True),
    "django_celery_beat.IntervalSchedule": (True, True, True),
    # --- trading
    "trading.PriceAlert": (False, False, False),  # set by the owner, fired by the feed; staff cancel by an action
    # Money moves only through the trading services, in the transaction that writes the ledger:
    # staff cancel open orders and reset paper accounts by audited actions, nothing else.
    "trading.TradingAccount": (False, False, False),
    "trading.Balance": (False, False, False),
    "trading.LedgerEntry": (False, False, False),  # append-only
    "trading.Order": (False, False, False),
    "trading.Fill": (False, False, False),
    "trading.EquitySnapshot": (False, False, False),
    "trading.Withdrawal": (False, False, False),  # requested by the owner; staff cancel pending ones by an action
    "analytics.Backtest": (False, False, False),  # created by the owner (page, API, command); staff read
}


def test_every_admin_model_has_a_decided_write_surface():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    actual = {
        model._meta.label: (
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
        )
        for model, model_admin in admin.site._registry.items()
    }
    assert actual == WRITE_SURFACE


def test_staff_cannot_give_an_account_an_email_address_to_take_it_over(owner):
    superuser = Client()
    admin_signed_in(superuser, UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    answer = superuser.post(
        "/admin/account/emailaddress/add/", {"user": owner.pk, "email": "taker@evil.example", "verified": "on"}
    )
    assert answer.status_code == 403
    assert not EmailAddress.objects.filter(email="taker@evil.example").exists()


def test_no_admin_list_offers_bulk_delete_of_security_rows():
    superuser = Client()
    admin_signed_in(superuser, UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    for path in ("/admin/axes/accessattempt/", "/admin/usersessions/usersession/", "/admin/account/emailaddress/"):
        page = superuser.get(path)
        assert page.status_code == 200 and b"delete_selected" not in page.content, path
