"""GET /api/v1/ws/stats/: how the live price websocket is doing, for staff (support and admin).

The numbers live in Redis (exchanges.market.stats), so every ws process and the publisher add to
the same figures; this view only reads them.
"""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from cryptovault.api.permissions import StaffOnly, defaults_and
from cryptovault.api.views import ServiceApiView
from exchanges.market.stats import ws_stats


class WsStatsSerializer(serializers.Serializer):
    clients = serializers.IntegerField(help_text="/ws/prices connections open now, across every ws process.")
    messages_sent = serializers.IntegerField(
        help_text="Tick messages sent since Redis was last emptied: each tick adds the clients connected at that "
        "moment (snapshots, pings and replies are not counted)."
    )
    refused = serializers.IntegerField(help_text="Connections refused because their IP had `max_per_ip` open.")
    last_tick = serializers.DateTimeField(
        allow_null=True, help_text="When the last tick was published; null: none yet."
    )
    publisher_running = serializers.BooleanField(help_text="Whether a publisher holds the lock (publish_prices).")
    tick_seconds = serializers.FloatField(help_text="Seconds between ticks (PRICE_TICK_SECONDS).")
    max_per_ip = serializers.IntegerField(help_text="Open connections one client IP may hold (WS_PRICES_MAX_PER_IP).")


@extend_schema(
    summary="Live price websocket (staff)",
    description="Connected /ws/prices clients, messages sent, refused connections and the last tick. Staff only: "
    "everyone else gets 403.",
    tags=["market"],
    responses=WsStatsSerializer,
)
class WsStatsView(ServiceApiView):
    permission_classes = defaults_and(StaffOnly)  # the admin's rule: 2FA given at sign-in, admin networks

    def get(self, request, *args, **kwargs):
        limits = {"tick_seconds": settings.PRICE_TICK_SECONDS, "max_per_ip": settings.WS_PRICES_MAX_PER_IP}
        return Response(WsStatsSerializer({**asdict(ws_stats()), **limits}).data)
