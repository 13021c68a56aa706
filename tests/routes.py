"""Every route the project serves, as the URL resolver, the websocket router and the OpenAPI
schema list them.

The access matrix and the list query pins enumerate routes from here rather than from hand-kept
lists, so that a route added anywhere (an app's urls.py, an include nested in another) is seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator


@dataclass(frozen=True)
class Route:
    path: str  # as written in the URL conf, includes joined: "accounts/sessions/<int:session_id>/revoke/"
    name: str | None  # with its namespaces: "accounts:session_revoke"; None for unnamed patterns
    arguments: tuple[str, ...]  # the captured URL arguments, includes' own too
    unnamed_groups: bool  # a regex route that captures without naming (its ids are positional)

    @property
    def takes_ids(self) -> bool:
        return bool(self.arguments) or self.unnamed_groups


def _walk(patterns: list, prefix: str, namespace: str | None, arguments: tuple[str, ...], unnamed: bool):
    for pattern in patterns:
        regex = pattern.pattern.regex
        here = arguments + tuple(regex.groupindex)
        positional = unnamed or regex.groups > len(regex.groupindex)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner, here, positional)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield Route(prefix + str(pattern.pattern), name, here, positional)


def url_routes() -> tuple[Route, ...]:
    """Every URL pattern of the root URL conf (the one in force now), through nested includes, each once."""
    return _url_routes(settings.ROOT_URLCONF)


@cache
def _url_routes(urlconf: str) -> tuple[Route, ...]:
    return tuple(dict.fromkeys(_walk(get_resolver(urlconf).url_patterns, "", None, (), False)))


def websocket_routes() -> tuple[Route, ...]:
    """Every websocket route the ASGI router serves (cryptovault/routing.py)."""
    from cryptovault.routing import websocket_urlpatterns

    return tuple(_walk(websocket_urlpatterns, "", None, (), False))


@cache
def openapi_schema() -> dict[str, Any]:
    """The schema /api/schema/ serves, from drf-spectacular's generator."""
    return SchemaGenerator().get_schema(request=None, public=True)


def schema_operations() -> dict[str, set[str]]:
    """Schema path ("/api/v1/auth/api-keys/{key_id}/") -> its methods, upper case."""
    return {
        path: {method.upper() for method in operations if method in {"get", "post", "put", "patch", "delete"}}
        for path, operations in openapi_schema()["paths"].items()
    }


def schema_path_route_name(path: str) -> str | None:
    """The URL name serving a schema path: its parameters filled with 1, then resolved."""
    try:
        return resolve(re.sub(r"\{[^}/]+\}", "1", path)).view_name
    except Resolver404:  # or a converter that refuses "1": the caller names the path
        return None
