import io
import json
import logging
import re

import pytest
from django.conf import settings

from cryptovault.logging import JsonFormatter, RequestContextFilter, SecretMaskingFilter


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
    """Capture the access log exactly as production writes it: filtered, masked, JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.addFilter(SecretMaskingFilter())
    handler.setFormatter(
        JsonFormatter(**{k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"})
    )
    logger = logging.getLogger("cryptovault")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_the_access_log_line_carries_request_id_user_and_timing(owner_client, owner, json_log):
    response = owner_client.get("/", headers={"X-Request-ID": "trace-0123456789"})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = next(line for line in lines if line["logger"] == "cryptovault.access")
    assert response.status_code == 200
    assert access["request_id"] == "trace-0123456789"
    assert access["user_id"] == str(owner.pk)
    assert access["method"] == "GET" and access["path"] == "/" and access["status"] == 200
    assert access["level"] == "INFO" and "time" in access and access["duration_ms"] >= 0
