"""Servers never take the client address from a header the client wrote.

cryptovault.clientip is the one rule for X-Forwarded-For (trusted only for TRUSTED_PROXY_COUNT
proxies of ours). A server that rewrites the address itself (uvicorn's default proxy headers
trust any client on 127.0.0.1) would let a local client escape lockout and rate limits and
write any address into the audit log. test_run_command.py drives the real run command; these
cover the test server and the production commands.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import PASSWORD, post_json

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_the_asgi_test_server_does_not_let_a_made_up_x_forwarded_for_escape_the_lockout(asgi_server, owner):
    token_url = f"{asgi_server.url}/api/v1/auth/token/"
    for _ in range(5):
        post_json(token_url, {"email": owner.email, "password": "not-the-password"})

    status, body = post_json(
        token_url, {"email": owner.email, "password": PASSWORD}, headers={"X-Forwarded-For": "203.0.113.77"}
    )

    assert status == 429, body
    assert body["code"] == "account_locked"


def command_lists(text: str, program: str) -> list[str]:
    """The JSON-style command lists (compose `command: [...]`, Dockerfile `CMD [...]`) running ``program``."""
    return [found for found in re.findall(r"\[[^\[\]]*\]", text) if f'"{program}"' in found]


def test_the_compose_websocket_server_ignores_proxy_headers():
    (ws_command,) = command_lists((BASE_DIR / "docker-compose.yml").read_text(), "uvicorn")
    assert '"--no-proxy-headers"' in ws_command


def test_the_image_gunicorn_trusts_no_forwarded_headers_itself():
    (cmd,) = command_lists((BASE_DIR / "Dockerfile").read_text(), "gunicorn")
    assert re.search(r'"--forwarded-allow-ips",\s*"",', cmd), cmd
