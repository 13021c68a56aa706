"""The admin's door (issue 12): only from ADMIN_ALLOWED_NETWORKS (404 elsewhere, the client IP read
as everywhere), and only for staff who use a second factor (a password alone used to open it)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.selectors import two_factor_enabled
from cryptovault.admin_gate import STAFF_NEED_TWO_FACTOR
from tests.factories import UserFactory
from tests.fakes.authenticator import turn_on_totp, unused_totp_code
from tests.helpers import PASSWORD, admin_signed_in, text

OFFICE = "10.20.0.0/16"
# "/admin" without its slash too: a redirect to /admin/ would say the admin is there.
ADMIN_URLS = ["/admin/", "/admin", "/admin/accounts/user/", "/admin/login/", "/admin/does-not-exist/"]


@pytest.fixture
def staff_browser(staff_user) -> Client:
    return admin_signed_in(Client(), staff_user)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_outside_the_admin_networks_every_admin_url_is_not_found(settings, staff_user, url):
    settings.ADMIN_ALLOWED_NETWORKS = [OFFICE, "2001:db8::/32"]
    browser = admin_signed_in(Client(REMOTE_ADDR="203.0.113.5"), staff_user)
    answer = browser.get(url)
    assert answer.status_code == 404
    assert "administration" not in answer.text.lower()
    assert Client(REMOTE_ADDR="203.0.113.5").get(url).status_code == 404, "nor to visitors"


@pytest.mark.django_db
def test_inside_the_admin_networks_the_admin_opens(settings, staff_user):
    settings.ADMIN_ALLOWED_NETWORKS = [OFFICE, "2001:db8::/32"]
    assert admin_signed_in(Client(REMOTE_ADDR="10.20.3.4"), staff_user).get("/admin/").status_code == 200
    assert admin_signed_in(Client(REMOTE_ADDR="2001:db8::7"), staff_user).get("/admin/").status_code == 200


@pytest.mark.django_db
def test_paths_that_only_start_like_the_admin_are_not_the_admins(settings, client):
    settings.ADMIN_ALLOWED_NETWORKS = [OFFICE]
    assert client.get("/administrator/", REMOTE_ADDR="10.20.3.4").status_code == 404
    assert client.get("/admin", REMOTE_ADDR="10.20.3.4").status_code == 301, "inside: Django's slash redirect"


@pytest.mark.django_db
def test_with_no_networks_set_the_admin_opens_from_anywhere(settings, staff_browser):
    settings.ADMIN_ALLOWED_NETWORKS = []
    assert staff_browser.get("/admin/", REMOTE_ADDR="203.0.113.5").status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_header_does_not_open_the_admin(settings, staff_user):
    settings.ADMIN_ALLOWED_NETWORKS = [OFFICE]
    settings.TRUSTED_PROXY_COUNT = 1
    browser = admin_signed_in(Client(REMOTE_ADDR="10.20.0.1"), staff_user)  # our proxy, inside
    forged = browser.get("/admin/", HTTP_X_FORWARDED_FOR="10.20.9.9, 203.0.113.5")
    assert forged.status_code == 404, "the proxy appended the real client address"
    assert browser.get("/admin/", HTTP_X_FORWARDED_FOR="10.20.9.9").status_code == 200


@pytest.mark.django_db
def test_other_pages_do_not_care_about_the_admin_networks(settings, owner_client):
    settings.ADMIN_ALLOWED_NETWORKS = [OFFICE]
    assert owner_client.get("/accounts/profile/", REMOTE_ADDR="203.0.113.5").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/", "/admin/accounts/user/"])
def test_staff_without_two_factor_are_sent_to_turn_it_on(url):
    staff = UserFactory(email="newstaff@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = Client()
    assert browser.post("/accounts/login/", {"login": staff.email, "password": PASSWORD}).status_code == 302
    answer = browser.get(url)
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/security/?next=")
    page = browser.get(answer["Location"])
    assert STAFF_NEED_TWO_FACTOR in text(page)


@pytest.mark.django_db
def test_staff_who_turn_two_factor_on_then_sign_in_with_it_reach_the_admin():
    staff = UserFactory(email="newstaff@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    turn_on_totp(staff)
    browser = Client()
    assert (
        browser.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})["Location"] == "/accounts/2fa/"
    )
    assert browser.get("/admin/").status_code == 302, "no admin between the password and the code"
    assert browser.post("/accounts/2fa/", {"otp_code": unused_totp_code(staff)}).status_code == 302
    assert two_factor_enabled(staff)
    assert browser.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_staff_session_that_has_not_given_its_second_factor_is_asked_for_it(staff_user):
    turn_on_totp(staff_user)
    browser = Client()
    browser.force_login(staff_user)  # e.g. signed in before 2FA was turned on elsewhere
    answer = browser.get("/admin/accounts/user/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/step-up/?next=")
    proved = browser.post(answer["Location"], {"otp_code": unused_totp_code(staff_user)})
    assert proved.status_code == 302 and proved["Location"] == "/admin/accounts/user/"
    assert browser.get("/admin/accounts/user/").status_code == 200


@pytest.mark.django_db
def test_users_who_are_not_staff_still_get_the_admins_own_answer(owner_client):
    assert owner_client.get("/admin/", follow=True).status_code == 403
    assert Client().get("/admin/", follow=True).redirect_chain[-1][0].startswith("/accounts/login/")
