"""The anti-phishing code: a phrase the user picks, shown in every email we send them. Setting it needs a
fresh second factor when 2FA is on, is audited without the code, raises a security alert (whose email
already shows the new code), and is never logged. The API says whether one is set, never the code."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from accounts.errors import InvalidCode, StepUpRequired
from accounts.models import Notification, TOTPDevice
from accounts.services.api_keys import api_key_create
from cryptovault.actor import SECOND_FACTOR_AT_SESSION_KEY, Actor
from security.models import AuditEvent
from security.services.anti_phishing import anti_phishing_code_set
from tests.conftest import PASSWORD
from tests.factories import TEST_ACTOR
from tests.fakes.authenticator import turn_on_totp, unused_totp_code
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/security/anti-phishing/"
PAGE = "/security/anti-phishing/"
CODE = "Blue Falcon 42"


def page_actor(user, *, fresh: bool = False) -> Actor:
    return Actor(user=user, via="page", ip="203.0.113.7", second_factor_at=time.time() if fresh else None)


def stepped_up_browser(user) -> Client:
    """A browser whose session proved the second factor just now."""
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[SECOND_FACTOR_AT_SESSION_KEY] = time.time()
    session.save()
    return browser


def records(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(user=user, action="security.anti_phishing_changed").order_by("id"))


# --- the service -----------------------------------------------------------------------------------------
def test_setting_a_code_stores_it_records_it_without_the_code_and_alerts_by_email(
    owner, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level("DEBUG")
    with django_capture_on_commit_callbacks(execute=True):
        anti_phishing_code_set(actor=page_actor(owner), code=CODE)

    owner.refresh_from_db()
    assert owner.anti_phishing_code == CODE
    [record] = records(owner)
    assert record.details == {"change": "set"} and record.via == "page" and record.ip == "203.0.113.7"
    alert = Notification.objects.get(user=owner, event="security.anti_phishing_changed")
    assert alert.priority == "critical" and CODE not in alert.body and CODE not in str(alert.payload)
    [email] = mail.outbox
    assert email.to == [owner.email]
    assert f"Your anti-phishing code: {CODE}" in email.body, "the alert's own email already shows the new code"
    assert CODE not in caplog.text, "the code is never logged"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("abc", "4 to 20 characters"),
        ("x" * 21, "4 to 20 characters"),
        (" Blue Falcon", "no space at the start or end"),
        ("Blue Falcon ", "no space at the start or end"),
        ("Blue\tFalcon", "printable characters only"),
        ("Blue\nFalcon", "printable characters only"),
        ("Blue\x00Falcon", "printable characters only"),
        ("owner@example.com", "other than your email address"),
        ("OWNER@example.com", "other than your email address"),
        (PASSWORD[:20], None),  # a 20-character prefix of the password is fine ...
    ],
)
def test_a_code_that_may_not_be_used_is_refused_saying_why_and_nothing_changes(owner, code, says):
    if says is None:
        anti_phishing_code_set(actor=page_actor(owner), code=code)
        return
    with pytest.raises(ValidationError) as refused:
        anti_phishing_code_set(actor=page_actor(owner), code=code)
    assert says in " ".join(refused.value.message_dict["code"])
    owner.refresh_from_db()
    assert owner.anti_phishing_code == ""
    assert records(owner) == [] and not Notification.objects.filter(user=owner).exists()


def test_the_password_itself_is_refused(owner):
    owner.set_password("Tr0ub4dor&3")
    owner.save()
    with pytest.raises(ValidationError) as refused:
        anti_phishing_code_set(actor=page_actor(owner), code="Tr0ub4dor&3")
    assert refused.value.message_dict == {"code": ["Choose something other than your password."]}


def test_changing_clearing_and_setting_the_same_code_again(owner):
    actor = page_actor(owner)
    anti_phishing_code_set(actor=actor, code=CODE)
    anti_phishing_code_set(actor=actor, code=CODE)  # the same: nothing to record or announce
    anti_phishing_code_set(actor=actor, code="Red Kite")
    anti_phishing_code_set(actor=actor, code="")

    owner.refresh_from_db()
    assert owner.anti_phishing_code == ""
    assert [record.details["change"] for record in records(owner)] == ["set", "changed", "cleared"]
    assert Notification.objects.filter(user=owner, event="security.anti_phishing_changed").count() == 3


def test_with_two_factor_on_it_needs_a_fresh_proof_and_a_wrong_code_is_recorded(owner):
    turn_on_totp(owner)

    with pytest.raises(StepUpRequired):
        anti_phishing_code_set(actor=page_actor(owner), code=CODE)
    anti_phishing_code_set(actor=page_actor(owner), code=CODE, otp_code=unused_totp_code(owner))
    with pytest.raises(InvalidCode):
        anti_phishing_code_set(actor=page_actor(owner), code="Red Kite", otp_code="000000")

    owner.refresh_from_db()
    assert owner.anti_phishing_code == CODE
    assert [record.details["change"] for record in records(owner)] == ["set"]
    assert AuditEvent.objects.filter(user=owner, action="2fa.code_rejected").exists()
    anti_phishing_code_set(actor=page_actor(owner, fresh=True), code="Red Kite")  # a step-up minutes ago
    owner.refresh_from_db()
    assert owner.anti_phishing_code == "Red Kite"


# --- the API ---------------------------------------------------------------------------------------------
def test_the_api_says_whether_a_code_is_set_and_never_the_code(owner, caplog):
    caplog.set_level("DEBUG")
    client = APIClient()
    sign_in(client, owner.email)
    assert client.get(URL).json() == {"set": False, "hint": ""}

    answer = client.put(URL, {"code": CODE}, format="json")

    assert answer.status_code == 200
    assert answer.json() == {"set": True, "hint": "B•••"}
    assert client.get(URL).json() == {"set": True, "hint": "B•••"}
    assert CODE not in answer.content.decode()
    owner.refresh_from_db()
    assert owner.anti_phishing_code == CODE
    assert records(owner)[0].via == "api"
    assert CODE not in caplog.text


def test_the_api_answers_a_bad_code_per_field(owner):
    client = APIClient()
    sign_in(client, owner.email)
    answer = client.put(URL, {"code": " x"}, format="json")
    assert answer.status_code == 400
    errors = answer.json()["errors"]["code"]
    assert any("4 to 20" in message for message in errors) and any("space" in message for message in errors)
    assert client.put(URL, {}, format="json").json()["errors"]["code"], 'the code is required ("" removes it)'
    assert client.put(URL, {"code": "y" * 65}, format="json").status_code == 400


def test_the_api_needs_the_second_factor_when_two_factor_is_on(owner):
    turn_on_totp(owner)
    client = APIClient()
    sign_in(client, owner.email, otp_code=unused_totp_code(owner))  # a JWT with a fresh proof
    assert client.put(URL, {"code": CODE}, format="json").status_code == 200

    stale = APIClient()
    stale.force_authenticate(owner)  # no proof at all
    refused = stale.put(URL, {"code": "Red Kite"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "step_up_required"
    accepted = stale.put(URL, {"code": "Red Kite", "otp_code": unused_totp_code(owner)}, format="json")
    assert accepted.status_code == 200
    owner.refresh_from_db()
    assert owner.anti_phishing_code == "Red Kite"


def test_an_api_key_may_read_whether_a_code_is_set_but_not_change_it(owner):
    _, raw = api_key_create(actor=TEST_ACTOR, user=owner, name="Reader", scopes=["read", "trade"])
    client = APIClient(HTTP_X_API_KEY=raw)
    assert client.get(URL).json() == {"set": False, "hint": ""}
    assert client.put(URL, {"code": CODE}, format="json").status_code == 403
    owner.refresh_from_db()
    assert owner.anti_phishing_code == ""


def test_a_visitor_not_signed_in_gets_nothing(db):
    assert APIClient().get(URL).status_code in (401, 403)
    assert APIClient().put(URL, {"code": CODE}, format="json").status_code in (401, 403)


# --- the page --------------------------------------------------------------------------------------------
def test_the_page_shows_the_code_only_after_a_fresh_second_factor(owner):
    turn_on_totp(owner)
    owner.anti_phishing_code = CODE
    owner.save()
    browser = Client()
    browser.force_login(owner)

    page = browser.get(PAGE)
    assert page.status_code == 302 and page["Location"] == "/accounts/step-up/?next=%2Fsecurity%2Fanti-phishing%2F"

    shown = stepped_up_browser(owner).get(PAGE)
    assert shown.status_code == 200
    assert CODE in shown.content.decode()


def test_the_page_sets_changes_and_removes_the_code(owner):
    browser = Client()
    browser.force_login(owner)  # 2FA off: nothing to prove

    assert "Not set" in browser.get(PAGE).content.decode()
    saved = browser.post(PAGE, {"code": CODE, "save": "1"}, follow=True)
    assert "Every email we send you from now on shows your anti-phishing code" in saved.content.decode()
    assert CODE in saved.content.decode()

    removed = browser.post(PAGE, {"code": "whatever is typed", "remove": "1"}, follow=True)
    assert "The anti-phishing code is removed" in removed.content.decode()
    owner.refresh_from_db()
    assert owner.anti_phishing_code == ""
    assert [record.details["change"] for record in records(owner)] == ["set", "cleared"]


def test_the_page_shows_what_is_wrong_on_the_form(owner):
    browser = Client()
    browser.force_login(owner)

    short = browser.post(PAGE, {"code": "abc", "save": "1"})
    assert short.status_code == 200
    assert "Use 4 to 20 characters (this has 3)." in short.content.decode()
    empty = browser.post(PAGE, {"code": "", "save": "1"})
    assert "Type the code you want in our emails, or remove the code." in empty.content.decode()
    mine = browser.post(PAGE, {"code": owner.email, "save": "1"})
    assert "Choose something other than your email address." in mine.content.decode()
    owner.refresh_from_db()
    assert owner.anti_phishing_code == "" and records(owner) == []
