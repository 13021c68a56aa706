import re

import pytest
from django.test import Client


@pytest.mark.django_db
def test_pages_send_a_strict_csp_and_the_usual_hardening_headers(owner_client):
    response = owner_client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.django_db
def test_pages_contain_no_inline_script_so_the_csp_can_hold(owner_client):
    anonymous = Client()
    for page in (owner_client.get("/").content.decode(), anonymous.get("/accounts/login/").content.decode()):
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
        assert scripts, "the base layout loads its scripts"
        for attributes, body in scripts:
            assert "src=" in attributes and body.strip() == ""
        assert not re.search(r"\son[a-z]+\s*=", page), "no inline event handlers"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_where_it_matters(client, owner):
    response = client.post("/accounts/login/", {"login": owner.email, "password": "correct-horse-battery-staple"})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"
