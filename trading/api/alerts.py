"""/api/v1/alerts/: your price alerts.

Reading takes a personal API key with the `read` scope. Creating and cancelling take the `trade`
scope (`trading.api.common.TRADING_API_KEY_SCOPES`): an alert moves no money and touches no key,
but it is an act on prices that a script trading for you may well need, and a read-only key should
stay read-only. Session and JWT clients do everything. Another user's alert is not found (404) for
every method.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from cryptovault.api.schema import error_response
from trading.api.common import TradingApiView
from trading.api.serializers import PriceAlertCreateSerializer, PriceAlertSerializer
from trading.filters import PriceAlertFilterSet
from trading.models import PriceAlert
from trading.selectors import alert_for, alerts_for
from trading.services.alerts import MAX_ACTIVE_ALERTS_PER_USER, alert_cancel, alert_create

TAGS = ["alerts"]
NOT_ACTIVE = error_response(409, "The alert already fired or was cancelled (`alert_not_active`); nothing changed.")
LIMIT = error_response(
    409, f"You have {MAX_ACTIVE_ALERTS_PER_USER} active alerts already (`alert_limit_reached`): cancel one first."
)


class AlertsApiView(TradingApiView):
    def alert(self) -> PriceAlert:
        return alert_for(user=self.request.user, pk=self.kwargs["alert_id"])


@extend_schema_view(
    get=extend_schema(
        summary="Your price alerts",
        description="Newest first, every status; the filters are the alerts page's. An API key needs `read`.",
        tags=TAGS,
    )
)
class AlertListCreateView(AlertsApiView, generics.ListAPIView):
    serializer_class = PriceAlertSerializer
    filterset_class = PriceAlertFilterSet
    input_serializer = PriceAlertCreateSerializer

    def get_queryset(self):
        return alerts_for(user=self.request.user)

    @extend_schema(
        summary="Set a price alert",
        description="Evaluated on every price tick; it fires once (in the app on /ws/events and by email, as your "
        "notification settings for `alerts` say) and then stays `fired`. An unknown market is a 400 "
        "`unknown_symbol`. An API key needs `trade`.",
        request=PriceAlertCreateSerializer,
        responses={201: PriceAlertSerializer, 409: LIMIT},
        tags=TAGS,
    )
    def post(self, request):
        alert = alert_create(actor=self.actor, user=request.user, **self.parse())
        return Response(PriceAlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class AlertDetailView(AlertsApiView):
    """DELETE cancels (204): the row stays, `cancelled`, for the record."""

    @extend_schema(
        summary="One price alert",
        description="With the price, 24 h change and source of the tick that fired it. An API key needs `read`.",
        responses={200: PriceAlertSerializer},
        tags=TAGS,
    )
    def get(self, request, alert_id: int):
        return Response(PriceAlertSerializer(self.alert()).data)

    @extend_schema(
        summary="Cancel a price alert",
        description="Only an active alert: one that fired or was cancelled answers 409 `alert_not_active`. The alert "
        "stays listed as `cancelled`. Answers 204 with no body. An API key needs `trade`.",
        responses={204: None, 409: NOT_ACTIVE},
        tags=TAGS,
    )
    def delete(self, request, alert_id: int):
        alert_cancel(actor=self.actor, alert=self.alert())
        return Response(status=status.HTTP_204_NO_CONTENT)
