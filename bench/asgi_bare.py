"""A bench-only ASGI application: /ws/prices/ served by consumers that only forward (benchmark 6's limit).

`bench/prices_fanout_bench.py` runs it under uvicorn beside the real `cryptovault.asgi`, with the same
settings, channel layer and publisher, to see what the fan-out of a price tick costs with nothing of
the app on the path: no Origin check, no session middleware, no per-IP lease, no snapshot, no
subscription filter, no heartbeat. Each consumer joins the group "prices" and sends every
"prices.tick" event on as the app's consumer does, `{"type": "tick", "payload": ...}`.

- /ws/prices/: stock Channels dispatch, which hops to the sync thread (`aclose_old_connections`)
  before every handler, the group event included;
- /ws/prices-nohop/: the same without that hop for group events, as `PricesConsumer.dispatch` does.

HTTP goes to Django (only /health is used, to wait for the server).
"""

import json
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")
django_asgi_app = get_asgi_application()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from cryptovault.events import PRICES_GROUP  # noqa: E402


class BareForwardConsumer(AsyncWebsocketConsumer):
    """Joins "prices" on connect (AsyncWebsocketConsumer.groups) and forwards each event, nothing else."""

    groups = [PRICES_GROUP]

    async def event_message(self, message):
        await self.send(text_data=json.dumps({"type": "tick", "payload": message["payload"]}))


class BareForwardNoHopConsumer(BareForwardConsumer):
    """The same, handling group events without Channels' thread hop (they touch no database)."""

    async def dispatch(self, message):
        if message["type"] == "event.message":
            await self.event_message(message)
        else:
            await super().dispatch(message)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(
            [
                path("ws/prices/", BareForwardConsumer.as_asgi()),
                path("ws/prices-nohop/", BareForwardNoHopConsumer.as_asgi()),
            ]
        ),
    }
)
