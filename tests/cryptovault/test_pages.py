import pytest
from django.test import Client

from tests.helpers import admin_signed_in


@pytest.mark.django_db
def test_the_dashboard_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


@pytest.mark.django_db
def test_the_dashboard_greets_the_signed_in_trader_in_the_base_layout(owner_client, owner):
    page = owner_client.get("/").content.decode()
    assert "Welcome, Olive" in page
    assert owner.email in page
    for landmark in (
        '<header class="site-header" role="banner">',
        '<main id="main"',
        'role="contentinfo"',
        'aria-label="Main"',
    ):
        assert landmark in page
    assert "data-theme-toggle" in page and "Sign out" in page


@pytest.mark.django_db
def test_signing_in_with_email_and_password_reaches_the_dashboard(client, owner):
    response = client.post(
        "/accounts/login/", {"login": "OWNER@example.com", "password": "correct-horse-battery-staple"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert "Welcome, Olive" in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_password_shows_a_form_error(client, owner):
    response = client.post("/accounts/login/", {"login": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


@pytest.mark.django_db
def test_the_404_page_uses_the_layout_and_shows_the_request_id(client):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "support-ticket-4242"})
    page = response.content.decode()
    assert response.status_code == 404
    assert "Not found" in page and 'data-testid="request-id">support-ticket-4242<' in page
    assert '<header class="site-header"' in page


@pytest.mark.django_db
@pytest.mark.urls("tests.cryptovault.urls_for_errors")
@pytest.mark.parametrize(
    "path, status, title", [("/forbidden/", 403, "Forbidden"), ("/suspicious/", 400, "Bad request")]
)
def test_400_and_403_pages_use_the_layout_and_show_the_request_id(owner_client, path, status, title):
    response = owner_client.get(path, headers={"X-Request-ID": "support-ticket-4000"})
    page = response.content.decode()
    assert response.status_code == status
    assert title in page and "support-ticket-4000" in page and '<header class="site-header"' in page


@pytest.mark.django_db
def test_a_stale_form_gets_a_friendly_403_in_the_layout(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": owner.email, "password": "correct-horse-battery-staple"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "The form had expired" in page and '<header class="site-header"' in page


@pytest.mark.django_db
@pytest.mark.urls("tests.cryptovault.urls_for_errors")
def test_the_500_page_shows_the_request_id_and_no_details(owner_client):
    owner_client.raise_request_exception = False
    response = owner_client.get("/crash/", headers={"X-Request-ID": "support-ticket-5000"})
    page = response.content.decode()
    assert response.status_code == 500
    assert "support-ticket-5000" in page and "hunter2" not in page and "RuntimeError" not in page


@pytest.mark.django_db
def test_the_admin_lists_users_by_email_without_password_hashes(client, staff_user, owner):
    admin_signed_in(client, staff_user)
    page = client.get("/admin/accounts/user/").content.decode()
    assert owner.email in page
    assert owner.password not in page
    change = client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    assert owner.password.split("$")[-1] not in change
