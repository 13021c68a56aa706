"""Twilio's Messages API on loopback: POST /2010-04-01/Accounts/<sid>/Messages.json.

Point the real twilio client at it with TWILIO_API_BASE_URL=fake.url. It checks HTTP basic
auth against the account SID and auth token it was made with, records each message and
answers like Twilio: 201 with a Message resource, or Twilio's error JSON when told to fail.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import parse_qs

from tests.fakes.http import LoopbackServer, QuietHandler

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
FROM_NUMBER = "+15005550006"  # Twilio's magic "valid sender" test number

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")


@dataclass(frozen=True)
class SentMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str


@dataclass(frozen=True)
class TwilioError:
    status: int
    code: int
    message: str

    def payload(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


INVALID_TO_NUMBER = TwilioError(400, 21211, "Invalid 'To' Phone Number")
UNREACHABLE_CARRIER = TwilioError(503, 30008, "Unknown error")


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        fake: FakeTwilio = self.server.fake
        body = self.read_body()
        match = _MESSAGES_PATH.match(self.path)
        if match is None:
            return self._error(TwilioError(404, 20404, "The requested resource was not found"))
        if not fake.credentials_match(self.headers.get("Authorization", ""), match["sid"]):
            return self._error(TwilioError(401, 20003, "Authenticate"))
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if fake.failure is not None:
            return self._error(fake.failure)
        if not form.get("To"):
            return self._error(TwilioError(400, 21604, "A 'To' phone number is required."))
        if not form.get("Body"):
            return self._error(TwilioError(400, 21602, "Message body is required."))
        message = SentMessage(
            sid="SM" + secrets.token_hex(16),
            account_sid=match["sid"],
            to=form["To"],
            from_=form.get("From", ""),
            body=form["Body"],
        )
        with fake.lock:
            fake.messages.append(message)
        self.send_body(201, json.dumps(_resource(message)).encode(), "application/json")

    def _error(self, error: TwilioError) -> None:
        self.send_body(error.status, json.dumps(error.payload()).encode(), "application/json")


def _resource(message: SentMessage) -> dict:
    """A Message resource as Twilio answers a create (the fields MessageInstance reads)."""
    now = formatdate(usegmt=True)
    uri = f"/2010-04-01/Accounts/{message.account_sid}/Messages/{message.sid}"
    return {
        "account_sid": message.account_sid,
        "api_version": "2010-04-01",
        "body": message.body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": message.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }


class FakeTwilio(LoopbackServer):
    handler_class = _Handler

    def __init__(self, *, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[SentMessage] = []
        self.failure: TwilioError | None = None
        self.rejected_credentials = 0

    def credentials_match(self, authorization: str, path_sid: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        ok = authorization == f"Basic {expected}" and path_sid == self.account_sid
        if not ok:
            with self.lock:
                self.rejected_credentials += 1
        return ok

    def fail_with(self, error: TwilioError | None) -> None:
        """Answer every message with `error` from now on (None: accept again)."""
        self.failure = error

    def settings(self, **overrides) -> dict:
        """The settings that make the project send through this fake with the real client."""
        return {
            "SMS_BACKEND": "accounts.sms.TwilioSMSBackend",
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": self.url,
            **overrides,
        }
