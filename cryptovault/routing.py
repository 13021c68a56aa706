"""Websocket routes for every app, in one place for the ASGI router."""

from django.urls import path

from accounts.consumers import UserEventsConsumer
from exchanges.market.consumers import PricesConsumer

websocket_urlpatterns = [
    path("ws/events/", UserEventsConsumer.as_asgi()),
    path("ws/prices/", PricesConsumer.as_asgi()),
]
