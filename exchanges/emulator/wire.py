"""The request and answer the server hands to each exchange module, free of socket details."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below the exchange's prefix, e.g. "/api/v3/account"
    query: str  # raw, as signed
    body: bytes
    headers: Message
    client_ip: str

    @property
    def params(self) -> dict[str, str]:
        """Query and form-body parameters together (Binance reads both)."""
        params = dict(parse_qsl(self.query, keep_blank_values=True))
        if self.body and "json" not in (self.headers.get("Content-Type") or ""):
            params.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    @property
    def path_with_query(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class Response:
    status: int
    payload: object = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return b"" if self.payload is None else json.dumps(self.payload, separators=(",", ":")).encode()
