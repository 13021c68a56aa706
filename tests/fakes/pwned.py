"""Have I Been Pwned's range API on loopback: GET /range/<5 hex> answers SUFFIX:COUNT lines.

Configured with the passwords it should call breached; it keeps every path it was asked
for, so a test can check that only a 5-character hash prefix ever left the server.
"""

from __future__ import annotations

import hashlib
import re

from tests.fakes.http import LoopbackServer, QuietHandler

_RANGE_PATH = re.compile(r"^/range/(?P<prefix>[0-9A-Fa-f]{5})$")


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()  # noqa: S324 - the API's format


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        fake: FakePwnedPasswords = self.server.fake
        with fake.lock:
            fake.requests.append((self.path, dict(self.headers.items())))
        match = _RANGE_PATH.match(self.path)
        if match is None:
            return self.send_body(400, b"The hash prefix was not in a valid format", "text/plain")
        prefix = match["prefix"].upper()
        lines = [f"{digest[5:]}:{count}" for digest, count in fake.breached.items() if digest.startswith(prefix)]
        # Padding, as the real service adds with Add-Padding: entries that match nothing, count 0.
        lines += [f"{'0' * 34}{n:x}:0".upper() for n in range(3)]
        self.send_body(200, "\r\n".join(lines).encode(), "text/plain")


class FakePwnedPasswords(LoopbackServer):
    handler_class = _Handler

    def __init__(self, breached: dict[str, int] | None = None) -> None:
        super().__init__()
        self.breached = {sha1_hex(password): count for password, count in (breached or {}).items()}
        self.requests: list[tuple[str, dict[str, str]]] = []

    @property
    def range_url(self) -> str:
        """The value for PWNED_PASSWORDS_URL."""
        return f"{self.url}/range/"

    @property
    def paths(self) -> list[str]:
        return [path for path, _headers in self.requests]
