"""Every list page and list endpoint costs a pinned number of queries, the same for one row as
for many (tests/list_queries.py lists them; the schema's lists may not be left out)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.list_queries import FIXED_LISTS, LIST_ROUTES, ListRoute
from tests.routes import openapi_schema, schema_path_route_name

MORE_ROWS = 4
# What any request of a signed-in browser costs before its view runs: the session and its user,
# allauth's session row read (with the user again) and updated, the session saved, two savepoints.
# The session and its user: activity is recorded at most once a minute (issue 12; it was 10 before).
SIGNED_IN_BROWSER = 2
NOT_FOUND = "/no-such-page/"


def is_api(entry: ListRoute) -> bool:
    return entry.name.startswith("v1:")  # the API's namespace: every /api/v1/ route


def rows_in(entry: ListRoute, answer) -> int:
    if is_api(entry):
        body = answer.json()
        return len(body["results"] if isinstance(body, dict) else body)
    assert entry.rows, f"{entry.name} is a page: give its entry rows= (what each row's HTML holds once)"
    return answer.content.count(entry.rows)


def cost_before_any_view(client) -> int:
    """Measured on a page that does not exist: the middleware's share of every request."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(NOT_FOUND).status_code == 404
    return len(queries)


def answers_a_list(operation: dict[str, Any]) -> bool:
    """A 200 JSON answer that is an array, or a page whose `results` is one."""
    schema = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = openapi_schema()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("type") == "array" or schema.get("properties", {}).get("results", {}).get("type") == "array"


def test_every_list_the_schema_documents_has_its_queries_pinned():
    pinned = {entry.name for entry in LIST_ROUTES} | set(FIXED_LISTS)
    unpinned = sorted(
        f"GET {path} ({schema_path_route_name(path)})"
        for path, operations in openapi_schema()["paths"].items()
        if "get" in operations and answers_a_list(operations["get"]) and schema_path_route_name(path) not in pinned
    )
    assert not unpinned, "Lists without a query pin in tests/list_queries.py:\n" + "\n".join(unpinned)


@pytest.mark.django_db
def test_a_signed_in_browser_costs_a_pinned_number_of_queries_before_any_view_and_a_jwt_none(owner_client, owner_jwt):
    owner_client.get(NOT_FOUND)  # the session's first request records it; later ones do not
    assert cost_before_any_view(owner_client) == SIGNED_IN_BROWSER
    assert cost_before_any_view(owner_jwt) == 0, "a JWT's user is read by the API view, not before it"


@pytest.mark.django_db
@pytest.mark.parametrize("entry", [pytest.param(entry, id=entry.name) for entry in LIST_ROUTES])
def test_a_list_costs_the_same_pinned_queries_for_one_row_or_many(request, django_assert_num_queries, entry: ListRoute):
    user = request.getfixturevalue("owner" if entry.who == "owner" else "staff_user")
    client = request.getfixturevalue(f"{entry.who}_jwt" if is_api(entry) else f"{entry.who}_client")
    first = entry.add_row(user)
    url = reverse(entry.name, kwargs=entry.kwargs(first) if entry.kwargs else None)
    assert client.get(url).status_code == 200  # a session's first request also records the session
    before_view = cost_before_any_view(client)

    with django_assert_num_queries(before_view + entry.queries):
        one = client.get(url)
    for _ in range(MORE_ROWS):
        entry.add_row(user)
    with django_assert_num_queries(before_view + entry.queries + MORE_ROWS * entry.per_row):
        many = client.get(url)

    assert one.status_code == many.status_code == 200
    assert rows_in(entry, many) == rows_in(entry, one) + MORE_ROWS, "the rows added are listed"


def test_no_list_costs_a_query_per_row():
    assert [entry.name for entry in LIST_ROUTES if entry.per_row] == []
