"""The API reference in a real browser: it renders, and no request leaves this server."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/api/redoc/", "/api/docs/"])
def test_the_api_reference_renders_without_asking_any_other_host(page, asgi_server, path):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    failed: list[str] = []
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))

    page.goto(path)
    expect(page.get_by_role("heading", name=re.compile("CryptoVault API")).first).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")

    elsewhere = [url for url in requested if not url.startswith((asgi_server.url, "data:", "blob:"))]
    assert elsewhere == []
    assert failed == []
    assert page.console_errors == [], page.console_errors
