import re

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_api_root_answers_with_version_headers_and_links(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    assert response["X-API-Version"] == "1"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.json()["me"].endswith("/api/v1/me/")


@pytest.mark.django_db
def test_signed_in_user_sees_only_themselves(owner_api_client, owner):
    response = owner_api_client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["email"] == owner.email
    assert "password" not in response.json()


@pytest.mark.django_db
def test_anonymous_api_errors_are_json_with_the_request_id(api_client):
    response = api_client.get("/api/v1/me/", headers={"X-Request-ID": "integration-test-0001"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key", "the client is told how to authenticate"
    body = response.json()
    assert body == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "request_id": "integration-test-0001",
    }


@pytest.mark.django_db
def test_unknown_api_paths_answer_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
    assert response.json()["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
@pytest.mark.urls("tests.cryptovault.urls_for_errors")
def test_an_unexpected_api_failure_is_a_json_500_that_reveals_nothing(owner_api_client, caplog):
    response = owner_api_client.get("/api/v1/crash/")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and body["request_id"] == response["X-Request-ID"]
    assert "boom" not in response.content.decode() and "abc123" not in response.content.decode()
    assert any(record.exc_info for record in caplog.records), "the traceback is logged for operators"


@pytest.fixture
def tight_limits(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "5/min"}}


@pytest.mark.django_db
def test_anonymous_clients_are_throttled_per_ip_with_rate_limit_headers(api_client, tight_limits):
    remaining = [api_client.get("/api/v1/")["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    response = api_client.get("/api/v1/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "0"
    assert response["X-RateLimit-Policy"] == "3;w=60"
    assert response.json()["code"] == "throttled"
    other_ip = api_client.get("/api/v1/", REMOTE_ADDR="10.9.8.7")
    assert other_ip.status_code == 200, "another client IP has its own budget"


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_reset_the_anonymous_budget(api_client, tight_limits):
    for n in range(3):
        api_client.get("/api/v1/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert api_client.get("/api/v1/", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429


@pytest.mark.django_db
def test_signed_in_users_are_throttled_per_user(owner_api_client, api_client, outsider, tight_limits):
    statuses = [owner_api_client.get("/api/v1/me/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    api_client.force_login(outsider)
    assert api_client.get("/api/v1/me/").status_code == 200, "another user has their own budget"


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))
    text = schema.read_text()
    assert "/api/v1/me/" in text and "CryptoVault API" in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_are_served_from_local_assets(client, path):
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 200
    assert not re.search(r"(src|href)=\"https?://", page), "no CDN"
    # The sidecar's files; ReDoc's bundle through its page's view, without the CDN logo (test_api_docs.py).
    assert re.search(r'src="/(static/drf_spectacular_sidecar/|api/redoc/\?bundle=)', page)
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_swagger_initialiser_is_a_separate_script_for_the_csp(client):
    page = client.get("/api/docs/").content.decode()
    init_src = re.search(r'<script src="([^"]*api/docs/\?script=)"', page)
    assert init_src, page
    script = client.get(init_src.group(1))
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
