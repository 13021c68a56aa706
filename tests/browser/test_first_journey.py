"""A trader's first visit, in a real browser: sign in, see the dashboard, theme, sign out."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_trader(settings):
    settings.DEBUG = True  # seed_demo is for the embedded default only
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False


def test_demo_trader_signs_in_sees_the_dashboard_toggles_the_theme_and_signs_out(page, demo_trader):
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")

    page.get_by_label("Email").fill("demo@cryptovault.local")
    page.get_by_label("Password").fill("demo-trader-2026")
    page.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", name="Welcome, Demo")).to_be_visible()
    expect(page.get_by_test_id("signed-in-user")).to_contain_text("demo@cryptovault.local")
    expect(page.get_by_role("status").filter(has_text="Live updates on")).to_be_visible()

    html = page.locator("html")
    starting_theme = html.get_attribute("data-theme")
    other_theme = "dark" if starting_theme == "light" else "light"
    page.get_by_role("button", name=f"Switch to {other_theme} theme").click()
    expect(html).to_have_attribute("data-theme", other_theme)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.reload()
    expect(html).to_have_attribute("data-theme", other_theme)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/accounts/login/")
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    assert page.console_errors == [], page.console_errors


def test_the_dashboard_loads_without_csp_violations_or_missing_assets(page, demo_trader):
    failed_requests: list[str] = []
    page.on("requestfailed", lambda request: failed_requests.append(request.url))
    page.on(
        "response",
        lambda response: response.status >= 400 and failed_requests.append(f"{response.status} {response.url}"),
    )
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("demo@cryptovault.local")
    page.get_by_label("Password").fill("demo-trader-2026")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("status").filter(has_text="Live updates on")).to_be_visible()
    assert page.evaluate("typeof window.htmx") == "object", "htmx from the npm registry is served"
    assert failed_requests == []
    assert page.console_errors == [], page.console_errors
