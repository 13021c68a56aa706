"""ASGI entry point: HTTP and websockets (Channels).

In production uvicorn serves only /ws/ behind the proxy's path split (gunicorn serves
HTTP faster); the embedded run command serves both from this one application.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptovault.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from cryptovault.routing import websocket_urlpatterns  # noqa: E402
from cryptovault.ws_origin import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
