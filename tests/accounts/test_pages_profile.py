"""The Profile page: name, time zone, phone (read-only here), notification choices."""

from __future__ import annotations

from accounts.models import NotificationPreference


def test_the_profile_shows_the_name_and_time_zone_and_saves_changes(owner_client, owner):
    page = owner_client.get("/accounts/profile/")
    assert b"Olive Owner" in page.content
    response = owner_client.post(
        "/accounts/profile/", {"section": "profile", "name": "Olive O.", "timezone": "Europe/Paris"}, follow=True
    )
    assert b"Your profile is saved." in response.content
    owner.refresh_from_db()
    assert owner.name == "Olive O."
    assert str(owner.timezone) == "Europe/Paris"


def test_an_unknown_time_zone_is_a_form_error(owner_client, owner):
    response = owner_client.post("/accounts/profile/", {"section": "profile", "name": "O", "timezone": "Mars/Base"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_the_phone_is_read_only_here_with_a_way_to_change_it(owner_client, owner):
    owner.phone = "+447700900123"
    owner.save(update_fields=["phone"])
    page = owner_client.get("/accounts/profile/")
    assert b"+447700900123" in page.content
    assert b'href="/accounts/security/"' in page.content
    owner_client.post("/accounts/profile/", {"section": "profile", "name": "O", "timezone": "UTC", "phone": "+1555"})
    owner.refresh_from_db()
    assert owner.phone == "+447700900123"


def test_notification_choices_are_a_grid_of_checkboxes_that_saves(owner_client, owner):
    page = owner_client.get("/accounts/profile/")
    assert b'name="pref__security__email"' in page.content
    assert b'name="pref__security__sms"' in page.content
    response = owner_client.post(
        "/accounts/profile/",
        {"section": "notifications", "pref__security__sms": "on", "pref__account__email": "on"},
        follow=True,
    )
    assert b"Your notification choices are saved." in response.content
    chosen = {(p.event_type, p.channel) for p in NotificationPreference.objects.filter(user=owner, enabled=True)}
    assert chosen == {("security", "sms"), ("account", "email")}


def test_the_profile_links_to_the_password_change_page(owner_client):
    assert b'href="/accounts/password/change/"' in owner_client.get("/accounts/profile/").content
