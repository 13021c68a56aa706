"""Plain helpers for tests of what reaches a user's open pages (/ws/events): a listener on their group
of the real channel layer, and a session cookie for opening the real socket as them.

Not collected (no `test_` prefix): tests import these by name.
"""

from __future__ import annotations

import asyncio

from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from cryptovault.events import user_group


class GroupListener:
    """A channel in a user's group on the real channel layer: what their open pages receive.

    The channel layer's receive buffers belong to one event loop, so the listener keeps its own
    and runs every layer call in it; `with GroupListener(user) as listener:` closes it after.
    """

    def __init__(self, user) -> None:
        self.loop = asyncio.new_event_loop()
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.group = user_group(user.pk)
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        self.loop.run_until_complete(self.layer.group_add(self.group, self.channel))

    def __enter__(self) -> GroupListener:
        return self

    def __exit__(self, *exc_info) -> None:
        self.loop.run_until_complete(self.layer.group_discard(self.group, self.channel))
        self.loop.run_until_complete(self.layer.close_pools())
        self.loop.close()

    def events(self, wait: float = 0.5) -> list[tuple[str, dict]]:
        """Every event received so far (waiting `wait` seconds for a late one), oldest first."""

        async def drain() -> list[tuple[str, dict]]:
            received = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), wait)
                except TimeoutError:
                    return received
                received.append((message["event"], message["payload"]))

        return self.loop.run_until_complete(drain())

    def notifications(self) -> list[dict]:
        return [payload for event, payload in self.events() if event == "notification"]


def session_cookie_for(user) -> str:
    """A `Cookie` header value signing `user` in, as their browser sends it when it opens the socket."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
