"""What the API answers to bodies and paths no endpoint expects: JSON 4xx, never a 500 or an HTML page."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_deeply_nested_json_body_is_a_400_not_a_500():
    answer = APIClient().post("/api/v1/auth/token/", "[" * 100_000, content_type="application/json")

    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/json")
    assert "nested too deeply" in answer.json()["detail"]


def test_a_number_too_long_to_read_is_a_400_in_our_words():
    body = '{"email": "a@example.com", "password": ' + "9" * 5000 + "}"
    answer = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")

    assert answer.status_code == 400
    assert "too many digits" in answer.json()["detail"]
    assert "set_int_max_str_digits" not in answer.content.decode()


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/orders/abc/", "/api/v1/orders/-1/", "/api/v1/nonexistent/"])
def test_an_unknown_api_path_is_a_json_404_even_with_debug_on(settings, owner_jwt, method, path):
    settings.DEBUG = True

    answer = getattr(owner_jwt, method)(path)

    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["code"] == "not_found"
    assert b"URLconf" not in answer.content
