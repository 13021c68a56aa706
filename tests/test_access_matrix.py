"""Every route that reaches an object by id answers 404 to a signed-in outsider, for every
method it serves, and leaves the object as it was; the owner gets through.

Nobody writes these tests per route: the routes come from the URL resolver and the OpenAPI
schema, and a route with an id that tests/access_matrix.py does not list fails here by name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import Model
from django.test import Client, override_settings
from django.urls import reverse

from tests.access_matrix import (
    EXCLUDED,
    EXCLUDED_PREFIXES,
    METHODS,
    OWNED_ROUTES,
    STAFF_ROUTES,
    OwnedRoute,
    StaffRoute,
    an_api_key,
)
from tests.routes import Route, schema_operations, schema_path_route_name, url_routes, websocket_routes

REGISTERED: dict[str, OwnedRoute | StaffRoute] = {entry.name: entry for entry in [*OWNED_ROUTES, *STAFF_ROUTES]}


def excluded(route: Route) -> bool:
    return route.name in EXCLUDED or route.path.startswith(tuple(EXCLUDED_PREFIXES))


def route_named(name: str) -> Route:
    routes = {route for route in url_routes() if route.name == name and route.takes_ids}
    assert len(routes) == 1, f"{len(routes)} URL patterns with an id are named {name}"
    return routes.pop()


def url_of(entry: OwnedRoute | StaffRoute, obj: Model) -> str:
    if entry.kwargs is not None:
        return reverse(entry.name, kwargs=entry.kwargs(obj))
    arguments = route_named(entry.name).arguments
    assert len(arguments) == 1, f"{entry.name} takes {arguments}: give its entry kwargs="
    return reverse(entry.name, kwargs={arguments[0]: obj.pk})


def is_api(entry: OwnedRoute | StaffRoute) -> bool:
    return route_named(entry.name).path.startswith("api/")


def send(client: Client, method: str, url: str, data: dict[str, Any], *, api: bool):
    if method == "GET":
        return client.get(url)
    if api:
        return getattr(client, method.lower())(url, data, format="json")
    if method == "POST":
        return client.post(url, data)
    return client.generic(method, url, urlencode(data), content_type="application/x-www-form-urlencoded")


def row_of(obj: Model) -> dict[str, Any] | None:
    """The object's row as stored now (None once deleted)."""
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


def signed_in(request: pytest.FixtureRequest, who: str, entry: OwnedRoute | StaffRoute) -> Client:
    """`who`'s session for a page, `who`'s JWT for the API (the suite-wide fixtures)."""
    return request.getfixturevalue(f"{who}_jwt" if is_api(entry) else f"{who}_client")


def unregistered_routes() -> list[str]:
    return sorted(
        f"{route.path} ({route.name or 'unnamed: name it'})"
        for route in url_routes()
        if route.takes_ids and not excluded(route) and route.name not in REGISTERED
    )


def try_outsider_then_owner(request: pytest.FixtureRequest, entry: OwnedRoute, method: str) -> None:
    """The outsider's attempt is a 404 that changes nothing; then the owner's succeeds."""
    obj = entry.make(request.getfixturevalue("owner"))
    url, before = url_of(entry, obj), row_of(obj)

    answer = send(signed_in(request, "outsider", entry), method, url, entry.data, api=is_api(entry))
    assert answer.status_code == 404, f"{method} {url} as the outsider: {answer.status_code}"
    assert row_of(obj) == before and entry.still_intact(obj), f"{method} {url} as the outsider changed the object"

    answer = send(signed_in(request, "owner", entry), method, url, entry.data, api=is_api(entry))
    assert answer.status_code < 400, f"{method} {url} as the owner: {answer.status_code}"


# --- the matrix covers every route with an id ------------------------------------------------------------
def test_every_url_pattern_with_an_id_is_in_the_access_matrix():
    missing = unregistered_routes()
    assert not missing, "Routes with an id that tests/access_matrix.py does not list:\n" + "\n".join(missing)


def test_no_websocket_route_takes_an_id_that_nothing_checks():
    """The matrix cannot open websockets; a consumer reached by an id needs its own owner/outsider
    test (tests/cryptovault/test_websockets.py shows how), named in EXCLUDED_PREFIXES."""
    unchecked = [route.path for route in websocket_routes() if route.takes_ids and not excluded(route)]
    assert not unchecked, f"Websocket routes with an id and no owner/outsider test: {unchecked}"


def test_every_schema_path_with_a_parameter_is_in_the_access_matrix_with_all_its_methods():
    problems = []
    for path, methods in schema_operations().items():
        if "{" not in path:
            continue
        name = schema_path_route_name(path)
        if name is None:
            problems.append(f"{path}: no URL pattern resolves it")
        elif name in EXCLUDED:
            continue
        elif name not in REGISTERED:
            problems.append(f"{path} ({name}): not in tests/access_matrix.py")
        elif unlisted := methods - set(REGISTERED[name].methods):
            problems.append(f"{path} ({name}): the schema documents {sorted(unlisted)}, the matrix does not try them")
    assert not problems, "\n".join(problems)


def test_every_matrix_entry_and_exclusion_still_names_a_route_with_an_id():
    with_ids = [route for route in url_routes() if route.takes_ids]
    names = {route.name for route in with_ids}
    stale = [name for name in [*REGISTERED, *EXCLUDED] if name not in names]
    stale += [prefix for prefix in EXCLUDED_PREFIXES if not any(r.path.startswith(prefix) for r in with_ids)]
    assert not stale, f"tests/access_matrix.py names routes that no longer take an id: {stale}"
    assert all(method in METHODS for entry in REGISTERED.values() for method in entry.methods)


# --- owners and outsiders --------------------------------------------------------------------------------
OWNED_CASES = [
    pytest.param(entry, method, id=f"{entry.name} {method}") for entry in OWNED_ROUTES for method in entry.methods
]


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "method"), OWNED_CASES)
def test_an_outsider_is_told_the_owners_object_does_not_exist_and_the_owner_gets_through(
    request, entry: OwnedRoute, method: str
):
    try_outsider_then_owner(request, entry, method)


@pytest.mark.django_db
@pytest.mark.parametrize("entry", [pytest.param(entry, id=entry.name) for entry in OWNED_ROUTES])
def test_a_method_the_matrix_does_not_list_is_refused_even_to_the_owner(request, owner, entry: OwnedRoute):
    """So that the methods listed are all the ways in, and the matrix tries every one of them."""
    obj = entry.make(owner)
    url = url_of(entry, obj)
    for method in sorted(set(METHODS) - set(entry.methods)):
        answer = send(signed_in(request, "owner", entry), method, url, entry.data, api=is_api(entry))
        assert answer.status_code == 405, f"{method} {url}: {answer.status_code}; list the method in the matrix"


# --- staff routes ----------------------------------------------------------------------------------------
STAFF_CASES = [
    pytest.param(entry, method, id=f"{entry.name} {method}") for entry in STAFF_ROUTES for method in entry.methods
]


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "method"), STAFF_CASES)
def test_a_staff_route_refuses_a_signed_in_user_who_is_not_staff_and_serves_staff(
    request, outsider, entry: StaffRoute, method: str
):
    obj = entry.make(outsider)
    url, before = url_of(entry, obj), row_of(obj)

    answer = send(signed_in(request, "owner", entry), method, url, entry.data, api=is_api(entry))
    assert answer.status_code == 403, f"{method} {url} as a user who is not staff: {answer.status_code}"
    assert row_of(obj) == before

    answer = send(signed_in(request, "staff", entry), method, url, entry.data, api=is_api(entry))
    assert answer.status_code < 400, f"{method} {url} as staff: {answer.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("entry", [pytest.param(entry, id=entry.name) for entry in STAFF_ROUTES])
def test_a_method_a_staff_route_does_not_list_is_refused_even_to_staff(request, outsider, entry: StaffRoute):
    url = url_of(entry, entry.make(outsider))
    for method in sorted(set(METHODS) - set(entry.methods)):
        answer = send(signed_in(request, "staff", entry), method, url, entry.data, api=is_api(entry))
        assert answer.status_code == 405, f"{method} {url}: {answer.status_code}; list the method in the matrix"


# --- the matrix catches a route that forgets the gate ------------------------------------------------------
FORGOTTEN = OwnedRoute("api_key_peek", make=an_api_key, methods=("GET",))


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.urls_with_a_forgotten_gate")
def test_a_new_route_with_an_id_is_named_until_registered_and_then_fails_if_it_forgets_the_gate(request):
    assert unregistered_routes() == ["accounts/api-keys/<int:key_id>/peek/ (api_key_peek)"]
    with pytest.raises(AssertionError, match="as the outsider: 200"):
        try_outsider_then_owner(request, FORGOTTEN, "GET")
