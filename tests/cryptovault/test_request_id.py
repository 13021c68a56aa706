import copy
import io
import json
import logging
import logging.config
import re

import pytest
from django.conf import settings
from django.test import Client


def test_every_response_carries_a_generated_request_id(client):
    response = client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get("/health")["X-Request-ID"] != response["X-Request-ID"]


def test_a_well_formed_client_request_id_is_echoed_back(client):
    response = client.get("/health", headers={"X-Request-ID": "checkout-2026-11-23.abc"})
    assert response["X-Request-ID"] == "checkout-2026-11-23.abc"


@pytest.mark.parametrize("bad", ["short", "has spaces in it ok", "x" * 200, "line\nbreak-forged-log"])
def test_a_malformed_client_request_id_is_replaced(client, bad):
    response = client.get("/health", headers={"X-Request-ID": bad})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.fixture
def json_log():
    """The project's own LOGGING, switched to JSON as in production, written to a buffer."""
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"].update(formatter="json", stream=stream)
    logging.config.dictConfig(config)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.config.dictConfig(settings.LOGGING)


def test_the_access_log_line_carries_request_id_user_and_timing(owner_client, owner, json_log):
    response = owner_client.get("/", headers={"X-Request-ID": "trace-0123456789"})
    access = next(line for line in json_log() if line["logger"] == "cryptovault.access")
    assert response.status_code == 200
    assert access["request_id"] == "trace-0123456789"
    assert access["user_id"] == str(owner.pk)
    assert access["method"] == "GET" and access["path"] == "/" and access["status"] == 200
    assert access["level"] == "INFO" and "time" in access and access["duration_ms"] >= 0


def test_a_line_never_carries_the_previous_requests_user(owner_client, owner, json_log):
    owner_client.get("/")
    # Next, in the same thread: an anonymous request whose view logs (a CSRF refusal).
    assert Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "x"}).status_code == 403
    refusal = next(line for line in json_log() if line["logger"] == "django.security.csrf")
    assert refusal["user_id"] == "-"


def test_production_tracebacks_and_reset_links_are_masked_in_the_log(json_log):
    try:
        raise ValueError("exchange said: bad api_key=AKIAEXAMPLE123")
    except ValueError:
        logging.getLogger("cryptovault.test").exception(
            "failed", extra={"path": "/accounts/password/reset/key/1-abc-3f9a1c2b7d8e/"}
        )
    line = next(line for line in json_log() if line["logger"] == "cryptovault.test")
    assert "AKIAEXAMPLE123" not in json.dumps(line) and "ValueError" in line["exc_info"]
    assert line["path"] == "/accounts/password/reset/key/********/"
