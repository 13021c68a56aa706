"""A new app gets errors, actors and the form cycle from the project package, not from accounts:
an endpoint and a page written only from that plumbing answer bad input the way accounts does."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cryptovault.urls_for_plumbing")]


def test_a_models_validation_error_is_a_400_naming_the_field(owner_api_client):
    answer = owner_api_client.post("/api/v1/orders/", {"amount": 0}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid" and body["errors"] == {"amount": ["Enter an amount above zero."]}
    assert body["request_id"] == answer["X-Request-ID"]


def test_a_domain_error_answers_its_own_status_and_code(owner_api_client):
    answer = owner_api_client.post("/api/v1/orders/", {"amount": 500}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "insufficient_funds"
    assert answer.json()["errors"] == {"amount": ["Not enough balance for this order."]}


def test_a_missing_row_is_a_404_not_a_500(owner_api_client):
    answer = owner_api_client.post("/api/v1/orders/", {"amount": 13}, format="json")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


def test_the_service_hears_who_called_and_from_where(owner_api_client, owner):
    answer = owner_api_client.post("/api/v1/orders/", {"amount": 5}, format="json")
    assert answer.status_code == 201
    assert answer.json() == {"placed": 5, "by": owner.email, "via": "api"}


def test_the_page_shows_the_same_errors_on_its_form(owner_client):
    assert "Enter an amount above zero." in owner_client.post("/orders/", {"amount": 0}).content.decode()
    assert "Not enough balance for this order." in owner_client.post("/orders/", {"amount": 500}).content.decode()
    assert owner_client.post("/orders/", {"amount": 5}).content == b"placed 5 via page"


def test_signing_in_is_the_default_for_every_endpoint(api_client):
    assert api_client.post("/api/v1/orders/", {"amount": 5}, format="json").status_code == 401


def test_input_that_cannot_be_written_back_as_utf8_is_still_a_400(owner_api_client):
    """An error message repeats a refused value; a lone surrogate in it must not turn the 400 into a 500."""
    answer = owner_api_client.generic(
        "POST", "/api/v1/auth/2fa/sms/", '{"purpose": "\\ud800"}', content_type="application/json"
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    assert "purpose" in answer.json()["errors"]


@pytest.mark.django_db
def test_an_oversized_api_body_is_a_413_in_the_api_error_shape_not_a_500(client):
    """Found by a probe: Django's RequestDataTooBig escaped the API's error mapping as a 500."""
    answer = client.post("/api/v1/auth/token/", data="x" * (3 * 1024 * 1024), content_type="application/json")
    assert answer.status_code == 413
    assert answer.json()["code"] == "request_too_large"
