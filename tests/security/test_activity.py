"""A person's security activity: their own audit records on /security/activity/ and
/api/v1/security/audit/, narrowed by one FilterSet, paged the same way, and never anyone else's.

Staff read everyone's records in the admin only; on the page and in the API they are a user like
any other. What staff did on someone's account shows as "staff", without the staff member's
address or browser.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR
from tests.helpers import admin_signed_in
from tests.security.conftest import FIREFOX_ON_WINDOWS, fill, signed_in_page_cost

PAGE = "/security/activity/"
API = "/api/v1/security/audit/"
OFFICE = "198.51.100.20"
STAFF_DESK = "192.0.2.99"
STAFF_BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) StaffConsole/9.9"


def page_ids(client: Client, query: str = "") -> list[int]:
    """The records the page lists, top to bottom."""
    answer = client.get(f"{PAGE}?{query}")
    assert answer.status_code == 200
    return [int(found) for found in re.findall(r'data-record="(\d+)"', answer.content.decode())]


def api_ids(client: APIClient, query: str = "") -> list[int]:
    answer = client.get(f"{API}?{query}")
    assert answer.status_code == 200, answer.json()
    return [row["id"] for row in answer.json()["results"]]


# --- who sees what ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_sees_their_own_records_newest_first_and_nobody_elses(
    owner_client, owner_api_client, owner, outsider, record
):
    first = record(owner, "auth.signed_in")
    second = record(owner, "auth.password_changed")
    record(outsider, "auth.signed_in")

    assert page_ids(owner_client) == [second.pk, first.pk]
    assert api_ids(owner_api_client) == [second.pk, first.pk]


@pytest.mark.django_db
def test_an_outsider_sees_none_of_the_owners_records(outsider, owner, record, signed_in, api_signed_in):
    record(owner, "auth.signed_in", ip=OFFICE)
    mine = record(outsider, "auth.signed_out")

    browser = signed_in(outsider)
    assert page_ids(browser) == [mine.pk]
    assert OFFICE not in browser.get(PAGE).content.decode()
    assert api_ids(api_signed_in(outsider)) == [mine.pk]
    assert api_ids(api_signed_in(outsider), f"ip={OFFICE}") == []


@pytest.mark.django_db
def test_staff_see_only_their_own_records_on_the_page_and_in_the_api_but_everyones_in_the_admin(
    staff_user, owner, outsider, record, signed_in, api_signed_in
):
    owners = record(owner, "auth.signed_in", ip=OFFICE)
    outsiders = record(outsider, "auth.signed_in")
    own = record(staff_user, "auth.signed_in", ip=STAFF_DESK)

    assert page_ids(signed_in(staff_user)) == [own.pk]
    assert api_ids(api_signed_in(staff_user)) == [own.pk]

    # The admin demands a second factor: turning it on for the staff member adds their own records.
    admin = admin_signed_in(Client(), staff_user).get("/admin/security/auditevent/")
    assert admin.status_code == 200
    assert {owners.pk, outsiders.pk, own.pk} <= {event.pk for event in admin.context["cl"].result_list}


@pytest.mark.django_db
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_and_the_api_answers_401(client, api_client):
    for path in (PAGE, f"{PAGE}export/"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/?next=")
    for path in (API, f"{API}export/"):
        answer = api_client.get(path)
        assert answer.status_code == 401 and answer.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_an_api_key_with_the_read_scope_reads_the_activity_and_one_without_it_is_refused(owner, record):
    event = record(owner, "auth.signed_in")
    _, reader = api_key_create(actor=TEST_ACTOR, user=owner, name="Reader", scopes=["read"])
    _, trader = api_key_create(actor=TEST_ACTOR, user=owner, name="Trader", scopes=["trade"])

    answer = APIClient().get(API, HTTP_AUTHORIZATION=f"Api-Key {reader}")
    assert answer.status_code == 200
    assert event.pk in [row["id"] for row in answer.json()["results"]]
    refused = APIClient().get(API, HTTP_AUTHORIZATION=f"Api-Key {trader}")
    assert refused.status_code == 403 and "lacks the 'read' scope" in refused.json()["detail"]


# --- how a record reads -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_record_shows_when_what_outcome_where_from_ip_browser_and_request_id(
    owner_client, owner_api_client, owner, record
):
    event = record(
        owner, "api_key.created", via="api", ip=OFFICE, user_agent=FIREFOX_ON_WINDOWS, key_name="Bot", scopes=["read"]
    )

    page = owner_client.get(PAGE).content.decode()
    for shown in (
        "API key created",
        "Succeeded",
        "API",
        OFFICE,
        "Firefox on Windows",
        event.request_id,
        "key name: Bot",
    ):
        assert shown in page, shown
    (row,) = owner_api_client.get(API).json()["results"]
    assert row == {
        "id": event.pk,
        "at": event.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "action": "api_key.created",
        "action_label": "API key created",
        "outcome": "success",
        "by": "you",
        "via": "api",
        "ip": OFFICE,
        "browser": "Firefox on Windows",
        "user_agent": FIREFOX_ON_WINDOWS,
        "request_id": event.request_id,
        "details": {"key_name": "Bot", "scopes": ["read"]},
    }


@pytest.mark.django_db
def test_what_staff_did_on_the_account_says_staff_and_hides_their_address_and_browser(
    owner_client, owner_api_client, owner, staff_user, record
):
    record(owner, "account.role_assigned", by=staff_user, via="admin", ip=STAFF_DESK, user_agent=STAFF_BROWSER)

    page = owner_client.get(PAGE).content.decode()
    assert "Staff" in page and "Role changed" in page
    assert STAFF_DESK not in page and "StaffConsole" not in page and staff_user.email not in page
    (row,) = owner_api_client.get(API).json()["results"]
    assert (row["by"], row["ip"], row["browser"], row["user_agent"]) == ("staff", None, "", "")
    assert "by_staff" not in row["details"]
    # Nor can the address be guessed through the filter.
    assert page_ids(owner_client, f"ip={STAFF_DESK}") == []
    assert api_ids(owner_api_client, f"ip={STAFF_DESK}") == []


@pytest.mark.django_db
def test_a_page_with_no_records_says_so_and_offers_no_export(owner_client):
    page = owner_client.get(PAGE)
    assert b"No activity yet" in page.content
    assert b"Export CSV" not in page.content


@pytest.mark.django_db
def test_the_activity_page_is_linked_from_the_navigation_and_the_security_page(owner_client):
    page = owner_client.get(PAGE).content.decode()
    assert '<a href="/security/activity/" aria-current="page">Activity</a>' in page
    assert 'href="/security/activity/"' in owner_client.get("/accounts/security/").content.decode()


# --- filters: one FilterSet, the same answers on the page and in the API -------------------------------------


@pytest.fixture
def history(owner, record):
    """A week of the owner's activity from two places, with a failure, in UTC."""
    return {
        "monday_home": record(owner, "auth.signed_in", at=datetime(2025, 3, 3, 9, 0, tzinfo=UTC)),
        "tuesday_office_fail": record(
            owner, "auth.sign_in_failed", ip=OFFICE, outcome="failure", at=datetime(2025, 3, 4, 23, 30, tzinfo=UTC)
        ),
        "wednesday_office": record(owner, "auth.signed_in", ip=OFFICE, at=datetime(2025, 3, 5, 8, 0, tzinfo=UTC)),
        "thursday_home": record(owner, "auth.password_changed", at=datetime(2025, 3, 6, 12, 0, tzinfo=UTC)),
    }


QUERIES = {
    "": ["thursday_home", "wednesday_office", "tuesday_office_fail", "monday_home"],
    "action=auth.signed_in": ["wednesday_office", "monday_home"],
    "outcome=failure": ["tuesday_office_fail"],
    f"ip={OFFICE}": ["wednesday_office", "tuesday_office_fail"],
    "created_after=2025-03-04": ["thursday_home", "wednesday_office", "tuesday_office_fail"],
    "created_before=2025-03-04": ["tuesday_office_fail", "monday_home"],
    "created_after=2025-03-04&created_before=2025-03-05": ["wednesday_office", "tuesday_office_fail"],
    f"action=auth.signed_in&ip={OFFICE}&created_after=2025-03-05": ["wednesday_office"],
    "action=auth.password_reset": [],  # a registered action none of these records is
}


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
def test_the_same_query_string_narrows_the_page_and_the_api_to_the_same_records(
    owner_client, owner_api_client, history, query
):
    expected = [history[name].pk for name in QUERIES[query]]
    assert page_ids(owner_client, query) == expected
    assert api_ids(owner_api_client, query) == expected


@pytest.mark.django_db
def test_days_in_the_filters_are_days_where_the_person_lives(owner, owner_client, owner_api_client, history):
    owner.timezone = ZoneInfo("Pacific/Auckland")  # UTC+13 in March: Tuesday 23:30 UTC is Wednesday there
    owner.save(update_fields=["timezone"])
    expected = [history["wednesday_office"].pk, history["tuesday_office_fail"].pk]
    assert page_ids(owner_client, "created_after=2025-03-05&created_before=2025-03-05") == expected
    assert api_ids(owner_api_client, "created_after=2025-03-05&created_before=2025-03-05") == expected


@pytest.mark.django_db
def test_the_activity_select_offers_the_actions_in_your_records_in_words(owner_client, owner, outsider, record):
    record(owner, "auth.signed_in")
    record(owner, "api_key.created")
    record(outsider, "2fa.disabled")

    html = owner_client.get(PAGE).content.decode()
    select = re.search(r'<select name="action".*?</select>', html, re.DOTALL).group()
    assert re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select) == [
        ("", "Any activity"),
        ("api_key.created", "API key created"),
        ("auth.signed_in", "Signed in"),
    ]


@pytest.mark.django_db
def test_a_bad_date_or_address_is_a_form_error_on_the_page_and_a_400_in_the_api_keeping_what_was_typed(
    owner_client, owner_api_client, owner, record
):
    record(owner, "auth.signed_in")
    query = "created_after=2025-02-30&ip=300.1.2.3&outcome=success"

    page = owner_client.get(f"{PAGE}?{query}")
    assert page.status_code == 200
    form = page.context["filter"].form
    assert set(form.errors) == {"created_after", "ip"}
    html = page.content.decode()
    assert 'value="300.1.2.3"' in html and 'value="2025-02-30"' in html, "what was typed stays in the form"
    assert "Correct the filters below" in html and 'data-testid="activity-row"' not in html

    answer = owner_api_client.get(f"{API}?{query}")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"created_after", "ip"}
    assert body["errors"]["ip"] == ["Enter a valid IPv4 or IPv6 address."]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["created_after=0001-01-01", "created_before=9999-12-31"])
def test_days_at_the_ends_of_the_calendar_are_answered_not_a_500(owner, owner_client, owner_api_client, record, query):
    owner.timezone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its first day starts before the calendar does
    owner.save(update_fields=["timezone"])
    event = record(owner, "auth.signed_in")
    assert page_ids(owner_client, query) == [event.pk]
    assert api_ids(owner_api_client, query) == [event.pk]


@pytest.mark.django_db
def test_an_outcome_that_does_not_exist_is_a_form_error_and_a_400(owner_client, owner_api_client):
    page = owner_client.get(f"{PAGE}?outcome=maybe")
    assert page.status_code == 200 and "outcome" in page.context["filter"].form.errors
    answer = owner_api_client.get(f"{API}?outcome=maybe")
    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["outcome"]


@pytest.mark.django_db
def test_refused_attempts_have_their_own_outcome_on_the_page_in_the_api_and_in_the_schema(
    owner_client, owner_api_client, owner, record, client
):
    refused = record(owner, "security.ip_refused", outcome="refused", refused_action="order.place")
    record(owner, "auth.signed_in")
    assert page_ids(owner_client, "outcome=refused") == [refused.pk]
    assert api_ids(owner_api_client, "outcome=refused") == [refused.pk]
    assert owner_api_client.get(f"{API}?outcome=refused").json()["results"][0]["outcome"] == "refused"
    assert "Refused" in owner_client.get(PAGE).content.decode()  # the outcome select offers it
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "refused" in schema["components"]["schemas"]["OutcomeEnum"]["enum"]


@pytest.mark.django_db
def test_an_action_that_is_not_a_recorded_kind_is_a_form_error_and_a_400(owner_client, owner_api_client, owner, record):
    record(owner, "auth.signed_in")
    page = owner_client.get(f"{PAGE}?action=nope")
    assert page.status_code == 200 and "action" in page.context["filter"].form.errors
    answer = owner_api_client.get(f"{API}?action=nope")
    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["action"]
    assert "nope" in answer.json()["errors"]["action"][0]
    assert api_ids(owner_api_client, "action=auth.signed_in")  # a registered one still narrows


# --- pages --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_and_the_api_show_fifty_records_a_page_and_page_links_keep_the_filter(
    owner_client, owner_api_client, owner, record
):
    for _ in range(55):
        record(owner, "auth.signed_in", ip=OFFICE)
    record(owner, "auth.signed_out")

    first = owner_client.get(f"{PAGE}?ip={OFFICE}").content.decode()
    assert f'href="?ip={OFFICE}&amp;page=2"' in first
    assert "Page 1 of 2 · 55 records" in first
    second = owner_client.get(f"{PAGE}?ip={OFFICE}&page=2").content.decode()
    assert f'href="?ip={OFFICE}&amp;page=1"' in second
    on_pages = [page_ids(owner_client, f"ip={OFFICE}"), page_ids(owner_client, f"ip={OFFICE}&page=2")]
    assert [len(ids) for ids in on_pages] == [50, 5]

    listed = owner_api_client.get(f"{API}?ip={OFFICE}").json()
    assert listed["count"] == 55 and len(listed["results"]) == 50
    assert listed["next"].endswith(f"{API}?ip={OFFICE}&page=2")
    assert api_ids(owner_api_client, f"ip={OFFICE}") == on_pages[0]
    assert api_ids(owner_api_client, f"ip={OFFICE}&page=2") == on_pages[1]


@pytest.mark.django_db
def test_a_page_past_the_end_is_not_found_on_the_page_and_in_the_api(owner_client, owner_api_client, owner, record):
    record(owner, "auth.signed_in")
    assert owner_client.get(f"{PAGE}?page=9").status_code == 404
    assert owner_api_client.get(f"{API}?page=9").status_code == 404


# --- the cost of a list does not grow with its length -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 60])
def test_the_page_costs_what_any_signed_in_page_costs_plus_three_queries_however_many_records(
    owner_client, owner, record, count, django_assert_num_queries
):
    fill(record, owner, count)
    with django_assert_num_queries(signed_in_page_cost(owner_client) + 3):  # the count, the rows, the actions
        assert owner_client.get(f"{PAGE}?outcome=success").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 60])
def test_the_api_list_costs_three_queries_however_many_records(
    owner_token_client, owner, record, count, django_assert_num_queries
):
    fill(record, owner, count)
    with django_assert_num_queries(3):  # the token's user, the count, the rows
        assert len(owner_token_client.get(f"{API}?outcome=success").json()["results"]) == min(count, 50)


@pytest.mark.django_db
def test_failed_sign_ins_on_my_account_show_in_my_activity_as_someone_else(client, owner):
    """Password guessing against an account is the owner's business: it shows, from where, and not as "you"."""
    client.post("/accounts/login/", {"login": "Owner@Example.com", "password": "a-wrong-guess-1"}, REMOTE_ADDR=GUESSER)
    api = APIClient()
    api.force_login(owner)
    failed = [
        row for row in api.get("/api/v1/security/audit/").json()["results"] if row["action"] == "auth.sign_in_failed"
    ]
    assert [(row["by"], row["ip"], row["outcome"]) for row in failed] == [("someone", GUESSER, "failure")]
    viewer = Client()
    viewer.force_login(owner)
    page = viewer.get("/security/activity/").content.decode()
    assert "Sign-in failed" in page and GUESSER in page and "Someone" in page


GUESSER = "203.0.113.50"
