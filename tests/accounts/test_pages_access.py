"""Every account page is for a signed-in user, and renders in the site layout with its nav."""

from __future__ import annotations

import pytest

PAGES = [
    "/accounts/verify/",
    "/accounts/security/",
    "/accounts/security/phone/",
    "/accounts/step-up/",
    "/accounts/sessions/",
    "/accounts/api-keys/",
    "/accounts/profile/",
    "/accounts/data/",
]
ACTIONS = [
    "/accounts/verify/resend/",
    "/accounts/security/totp/start/",
    "/accounts/security/disable/",
    "/accounts/sessions/1/revoke/",
    "/accounts/sessions/revoke-others/",
    "/accounts/api-keys/new/",
    "/accounts/api-keys/1/revoke/",
    "/accounts/data/export/",
]


@pytest.mark.parametrize("url", PAGES + ACTIONS)
def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, db, url):
    response = client.post(url) if url in ACTIONS else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


NAV = {
    "/accounts/security/": "Security",
    "/accounts/sessions/": "Sessions",
    "/accounts/api-keys/": "API keys",
    "/accounts/profile/": "Profile",
    "/accounts/data/": "Your data",
}


@pytest.mark.parametrize("url", [url for url in PAGES if url != "/accounts/step-up/"])
def test_each_page_renders_in_the_layout_with_the_account_links(owner_client, url):
    page = owner_client.get(url)
    assert page.status_code == 200
    for link, label in NAV.items():
        current = ' aria-current="page"' if link == url else ""
        assert f'<a href="{link}"{current}>{label}</a>'.encode() in page.content
