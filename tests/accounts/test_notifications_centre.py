"""The notification centre (/notifications/ and /api/v1/notifications/), the nav's unread badge (from
the cache: no query on a signed-in page) and the admin's read-only view of notifications and their
deliveries. Another user's notification is not found: tests/access_matrix.py tries every route."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models.notifications import Notification
from accounts.notify import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(django_capture_on_commit_callbacks):
    def run(user, key_name: str = "Bot", event: str = "security.api_key_created") -> Notification:
        with django_capture_on_commit_callbacks(execute=True):
            return notify(user=user, event=event, context={"key_name": key_name})

    return run


def badge(page: str) -> str:
    start = page.index("data-notification-badge")
    return page[page.index(">", start) + 1 : page.index("</span>", start)]


def notification_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"accounts_notification"' in q["sql"]]


# --- the page ---------------------------------------------------------------------------------------------
def test_the_centre_lists_the_owners_notifications_newest_first_with_the_unread_marked(
    told, owner, outsider, owner_client
):
    told(owner, "First")
    told(owner, "Second")
    told(outsider, "Not yours")
    page = owner_client.get("/notifications/").content.decode()
    assert page.count('data-testid="notification-row"') == 2
    assert page.index("New API key: Second") < page.index("New API key: First")
    assert "Not yours" not in page
    assert page.count('data-testid="notification-unread"') == 2
    assert badge(page) == "2"


def test_marking_one_read_lowers_the_badge_and_opening_one_goes_to_its_link(
    told, owner, owner_client, django_capture_on_commit_callbacks
):
    first, second = told(owner, "First"), told(owner, "Second")
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post(f"/notifications/{first.pk}/read/")
    assert answer.status_code == 302 and answer.url == "/notifications/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert badge(owner_client.get("/notifications/").content.decode()) == "1"

    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post(f"/notifications/{second.pk}/read/", {"open": "1"})
    assert answer.url == "/accounts/api-keys/"
    page = owner_client.get("/notifications/").content.decode()
    assert badge(page) == "0" and 'data-notification-badge aria-label="0 unread" hidden' in page


def test_mark_all_read_clears_the_badge_and_says_how_many(
    told, owner, owner_client, django_capture_on_commit_callbacks
):
    for name in ("a", "b", "c"):
        told(owner, name)
    with django_capture_on_commit_callbacks(execute=True):
        answer = owner_client.post("/notifications/read-all/")
    page = owner_client.get(answer.url).content.decode()
    assert "Marked 3 notifications read." in page and badge(page) == "0"
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()


def test_the_unread_filter_shows_only_unread_ones_and_pages_hold_fifty(told, owner, owner_client):
    for n in range(51):
        told(owner, f"key {n}")
    Notification.objects.filter(user=owner, title="New API key: key 0").update(read_at="2026-01-01T00:00:00Z")
    page = owner_client.get("/notifications/?unread=true").content.decode()
    assert page.count('data-testid="notification-row"') == 50 and "key 0<" not in page
    second = owner_client.get("/notifications/?page=2").content.decode()
    assert second.count('data-testid="notification-row"') == 1 and "Page 2 of 2" in second


def test_a_notification_of_someone_else_cannot_be_marked_read(told, owner, outsider_client):
    notification = told(owner)
    assert outsider_client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


# --- the badge: cached, so a signed-in page costs no query for it -----------------------------------------
def test_the_badge_is_read_from_the_cache_and_kept_current_by_notify_and_reading(
    told, owner, owner_client, django_capture_on_commit_callbacks
):
    owner_client.get("/accounts/profile/")  # the first page counts once and caches the figure
    with CaptureQueriesContext(connection) as queries:
        page = owner_client.get("/accounts/profile/").content.decode()
    assert badge(page) == "0" and notification_queries(queries) == []

    notification = told(owner)  # after commit: pushed with the new count, which is cached again
    with CaptureQueriesContext(connection) as queries:
        page = owner_client.get("/accounts/profile/").content.decode()
    assert badge(page) == "1" and notification_queries(queries) == []

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/notifications/{notification.pk}/read/")
    with CaptureQueriesContext(connection) as queries:
        page = owner_client.get("/accounts/profile/").content.decode()
    assert badge(page) == "0" and notification_queries(queries) == []


def test_reading_pushes_the_new_count_to_the_owners_other_pages(
    told, owner, owner_client, django_capture_on_commit_callbacks
):
    from tests.live_events import GroupListener

    notification = told(owner)
    with GroupListener(owner) as listener:
        with django_capture_on_commit_callbacks(execute=True):
            owner_client.post(f"/notifications/{notification.pk}/read/")
        assert listener.events() == [("notifications.unread", {"unread": 0})]


def test_every_signed_in_page_loads_the_script_that_keeps_the_badge_live(owner_client, client):
    assert "js/notifications.js" in owner_client.get("/accounts/profile/").content.decode()
    assert "js/notifications.js" not in client.get("/accounts/login/").content.decode()


# --- the API ----------------------------------------------------------------------------------------------
def test_the_api_lists_notifications_newest_first_and_filters_the_unread(told, owner, outsider, owner_jwt):
    first, second = told(owner, "First"), told(owner, "Second")
    told(outsider, "Theirs")
    Notification.objects.filter(pk=first.pk).update(read_at="2026-01-01T00:00:00Z")

    body = owner_jwt.get("/api/v1/notifications/").json()
    assert [row["id"] for row in body["results"]] == [second.pk, first.pk]
    row = body["results"][0]
    assert (row["event"], row["category"], row["priority"], row["read"]) == (
        "security.api_key_created",
        "security",
        "high",
        False,
    )
    assert row["payload"] == {"key_name": "Second"} and row["link"] == "/accounts/api-keys/"
    unread = owner_jwt.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [row["id"] for row in unread] == [second.pk]


def test_the_api_marks_one_and_all_read(told, owner, owner_jwt):
    first, _second, _third = told(owner, "1"), told(owner, "2"), told(owner, "3")
    answer = owner_jwt.post(f"/api/v1/notifications/{first.pk}/read/")
    assert answer.status_code == 200 and answer.json()["read"] is True and answer.json()["read_at"]
    assert owner_jwt.post("/api/v1/notifications/read-all/").json() == {"marked": 2, "unread": 0}
    assert owner_jwt.get("/api/v1/notifications/?unread=true").json()["results"] == []


def test_an_unread_value_that_is_not_true_or_false_is_a_400_and_a_form_error_on_the_page(
    told, owner, owner_jwt, owner_client
):
    told(owner)
    answer = owner_jwt.get("/api/v1/notifications/?unread=maybe")
    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["unread"]
    assert "true" in answer.json()["errors"]["unread"][0]
    page = owner_client.get("/notifications/?unread=maybe")
    assert page.status_code == 200 and "unread" in page.context["filter"].form.errors
    assert 'data-testid="notification-row"' not in page.content.decode()
    for value in ("true", "false", "TRUE", "1", "0", ""):
        assert owner_jwt.get(f"/api/v1/notifications/?unread={value}").status_code == 200, value


def test_a_read_only_api_key_reads_notifications_but_cannot_mark_them_read(told, owner):
    from rest_framework.test import APIClient

    from accounts.services.api_keys import api_key_create
    from tests.factories import TEST_ACTOR

    notification = told(owner)
    _, raw = api_key_create(actor=TEST_ACTOR, user=owner, name="Reader", scopes=["read", "trade", "withdraw"])
    key = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert key.get("/api/v1/notifications/").status_code == 200
    for url in (f"/api/v1/notifications/{notification.pk}/read/", "/api/v1/notifications/read-all/"):
        answer = key.post(url)
        assert answer.status_code == 403 and answer.json()["code"] == "permission_denied", url
    notification.refresh_from_db()
    assert notification.read_at is None  # the owner's unread badge still shows it


def test_the_api_answers_404_for_someone_elses_notification(told, owner, outsider_jwt):
    notification = told(owner)
    answer = outsider_jwt.post(f"/api/v1/notifications/{notification.pk}/read/")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_the_api_docs_describe_the_notification_endpoints(client):
    from tests.routes import openapi_schema

    paths = openapi_schema()["paths"]
    assert {
        "/api/v1/notifications/",
        "/api/v1/notifications/{notification_id}/read/",
        "/api/v1/notifications/read-all/",
    } <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/notifications/"]["get"]["parameters"]}
    assert {"unread", "category", "priority", "page"} <= parameters


# --- the admin --------------------------------------------------------------------------------------------
def test_staff_read_notifications_and_deliveries_filtered_and_searched_by_email_but_change_nothing(
    told, owner, outsider, admin_browser
):
    told(owner, "Owner key")
    told(outsider, "Outsider key")
    page = admin_browser.get(f"/admin/accounts/notification/?q={owner.email}&priority__exact=high").content.decode()
    assert "New API key: Owner key" in page and "Outsider key" not in page
    deliveries = admin_browser.get(
        f"/admin/accounts/notificationdelivery/?channel__exact=email&status__exact=sent&q={owner.email}"
    ).content.decode()
    assert deliveries.count(owner.email) >= 1 and outsider.email not in deliveries
    assert admin_browser.get("/admin/accounts/notification/add/").status_code == 403
    notification = Notification.objects.filter(user=owner).first()
    assert (
        admin_browser.post(f"/admin/accounts/notification/{notification.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Notification.objects.filter(pk=notification.pk).exists()
