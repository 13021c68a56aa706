"""The activity as a CSV file, from the page ("Export CSV") and from the API
(/api/v1/security/audit/export/): every record the filter matches, not one page; one file name;
never cached; nothing a spreadsheet would run; nothing the list would not show.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services.api_keys import api_key_create
from tests.factories import TEST_ACTOR
from tests.security.conftest import fill, signed_in_page_cost

PAGE = "/security/activity/"
PAGE_EXPORT = "/security/activity/export/"
API_EXPORT = "/api/v1/security/audit/export/"
OFFICE = "198.51.100.20"
HEADER = [
    "at",
    "action",
    "action_label",
    "outcome",
    "by",
    "via",
    "ip",
    "browser",
    "user_agent",
    "request_id",
    "details",
]


def download(client, url: str) -> tuple[object, list[list[str]]]:
    answer = client.get(url)
    assert answer.status_code == 200, getattr(answer, "content", b"")[:500]
    assert answer.streaming, "the file is streamed, not built in memory"
    body = b"".join(answer.streaming_content).decode()
    return answer, list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_the_csv_holds_every_record_the_filter_matches_across_pages_with_a_header_row(
    owner_client, owner_api_client, owner, outsider, record
):
    for _ in range(55):
        record(owner, "auth.signed_in", ip=OFFICE)
    record(owner, "auth.signed_out")
    record(outsider, "auth.signed_in", ip=OFFICE)

    page = owner_client.get(f"{PAGE}?ip={OFFICE}&page=2").content.decode()
    assert f'href="{PAGE_EXPORT}?ip={OFFICE}"' in page, "the Export CSV link keeps the filter, not the page"
    for client, url in ((owner_client, PAGE_EXPORT), (owner_api_client, API_EXPORT)):
        _, rows = download(client, f"{url}?ip={OFFICE}")
        assert rows[0] == HEADER
        assert len(rows) == 1 + 55
        assert {row[HEADER.index("ip")] for row in rows[1:]} == {OFFICE}


@pytest.mark.django_db
def test_a_record_in_the_csv_reads_as_in_the_list(owner_client, owner, record):
    event = record(
        owner, "api_key.created", via="api", key_name="Bot", scopes=["read"], at=datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    )
    _, (header, row) = download(owner_client, PAGE_EXPORT)
    assert dict(zip(header, row, strict=True)) == {
        "at": "2025-03-03T09:00:00+00:00",
        "action": "api_key.created",
        "action_label": "API key created",
        "outcome": "success",
        "by": "you",
        "via": "api",
        "ip": "203.0.113.7",
        "browser": "Chrome on Linux",
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "details": '{"key_name": "Bot", "scopes": ["read"]}',
    }


@pytest.mark.django_db
def test_the_file_is_an_attachment_named_for_today_and_never_cached(owner_client, owner_api_client, owner, record):
    record(owner, "auth.signed_in")
    expected = f'attachment; filename="cryptovault-activity-{timezone.now():%Y-%m-%d}.csv"'
    for client, url in ((owner_client, PAGE_EXPORT), (owner_api_client, API_EXPORT)):
        answer, _ = download(client, url)
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        assert answer["Content-Disposition"] == expected
        assert answer["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_the_page_and_the_api_export_the_same_file_for_the_same_query(owner_client, owner_api_client, owner, record):
    fill(record, owner, 7)
    record(owner, "auth.sign_in_failed", outcome="failure", ip=OFFICE)
    query = "outcome=success&action=auth.signed_in"
    _, from_page = download(owner_client, f"{PAGE_EXPORT}?{query}")
    _, from_api = download(owner_api_client, f"{API_EXPORT}?{query}")
    assert from_page == from_api
    assert len(from_page) == 1 + 3


@pytest.mark.django_db
def test_cells_a_spreadsheet_would_run_as_a_formula_are_prefixed_with_an_apostrophe(owner_client, owner, record):
    for user_agent in ('=HYPERLINK("http://evil.example")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"):
        record(owner, "account.sign_up_existing_email", user_agent=user_agent)
    _, rows = download(owner_client, PAGE_EXPORT)
    agents = sorted(row[HEADER.index("user_agent")] for row in rows[1:])
    assert agents == ["'+1+cmd|' /C calc'!A0", "'-2+3", '\'=HYPERLINK("http://evil.example")', "'@SUM(A1:A9)"]


@pytest.mark.django_db
def test_a_staff_members_address_and_browser_never_reach_the_csv(owner_client, owner, staff_user, record):
    record(owner, "account.role_assigned", by=staff_user, via="admin", ip="192.0.2.99", user_agent="StaffConsole/9")
    answer = owner_client.get(PAGE_EXPORT)
    body = b"".join(answer.streaming_content).decode()
    assert "192.0.2.99" not in body and "StaffConsole" not in body and staff_user.email not in body
    assert ",staff,admin,," in body


@pytest.mark.django_db
def test_an_outsiders_export_holds_none_of_the_owners_records(outsider, owner, record, signed_in, api_signed_in):
    record(owner, "auth.signed_in", ip=OFFICE)
    for client, url in ((signed_in(outsider), PAGE_EXPORT), (api_signed_in(outsider), API_EXPORT)):
        _, rows = download(client, url)
        assert rows == [HEADER]


@pytest.mark.django_db
def test_a_bad_filter_sends_the_page_export_back_to_the_page_and_the_api_export_answers_400(
    owner_client, owner_api_client
):
    query = "created_before=yesterday&ip=1.2.3"
    answer = owner_client.get(f"{PAGE_EXPORT}?{query}")
    assert answer.status_code == 302 and answer["Location"] == f"{PAGE}?{query}"
    assert set(owner_client.get(answer["Location"]).context["filter"].form.errors) == {"created_before", "ip"}

    refused = owner_api_client.get(f"{API_EXPORT}?{query}", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/json"
    assert set(refused.json()["errors"]) == {"created_before", "ip"}


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["text/csv", "application/json", "*/*"])
def test_the_api_export_answers_csv_whatever_the_client_accepts(owner_api_client, owner, record, accept):
    record(owner, "auth.signed_in")
    answer = owner_api_client.get(API_EXPORT, HTTP_ACCEPT=accept)
    assert answer.status_code == 200 and answer["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.django_db
def test_an_api_key_with_the_read_scope_exports_the_activity(owner, record):
    record(owner, "auth.signed_in")
    _, reader = api_key_create(actor=TEST_ACTOR, user=owner, name="Reader", scopes=["read"])
    _, rows = download(APIClient(HTTP_AUTHORIZATION=f"Api-Key {reader}"), API_EXPORT)
    assert [row[HEADER.index("action")] for row in rows[1:]] == ["api_key.created", "auth.signed_in"]


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 600])
def test_an_export_costs_the_same_queries_for_a_few_records_or_many(
    owner_client, owner_token_client, owner, record, count, django_assert_num_queries
):
    """One query for the rows, read in chunks from one cursor, on top of what signing in costs."""
    fill(record, owner, count)
    with django_assert_num_queries(signed_in_page_cost(owner_client) + 1):
        assert len(b"".join(owner_client.get(PAGE_EXPORT).streaming_content).splitlines()) == 1 + count
    with django_assert_num_queries(2):  # the token's user, the rows
        assert len(b"".join(owner_token_client.get(API_EXPORT).streaming_content).splitlines()) == 1 + count


@pytest.mark.django_db
def test_an_asgi_server_streams_the_export_too(owner, record):
    """uvicorn (the embedded default) gets an asynchronous stream, not a file Django buffers whole."""
    record(owner, "auth.signed_in", ip=OFFICE)

    async def export():
        client = AsyncClient()
        await client.aforce_login(owner)
        answer = await client.get(f"{PAGE_EXPORT}?ip={OFFICE}")
        return answer, b"".join([part async for part in answer.streaming_content]).decode()

    answer, body = async_to_sync(export)()
    assert answer.is_async
    assert list(csv.reader(io.StringIO(body)))[1][HEADER.index("ip")] == OFFICE
