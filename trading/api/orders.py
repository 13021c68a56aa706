"""/api/v1/orders/: place, list, read and cancel orders.

Placing is one call to `trading.services.orders.order_place`, which validates against the market's
rules, reserves the funds and runs or routes the order; this view only picks the account (the
paper account when none is named) and says 201 for a new order, 200 for a replay of the same
`client_order_id`. Placing is limited per user (`RATE_LIMITS["orders"]`, shared with the trade
ticket page): the 21st order in a minute answers 429 with the X-RateLimit-* headers.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cryptovault.api.schema import error_response
from cryptovault.ratelimits import rate_limited
from trading.api.common import TradingApiView
from trading.api.order_serializers import (
    ExchangeCallFailedSerializer,
    OrderDetailSerializer,
    OrderPlaceSerializer,
    OrderRejectedSerializer,
    OrderSerializer,
    PlaceInvalidSerializer,
)
from trading.filters import OrderFilterSet
from trading.models import AccountKind, Order, TradingAccount
from trading.selectors import accounts_for, order_for, orders_for
from trading.services.orders import order_cancel, order_place

TAGS = ["orders"]
NO_PAPER_ACCOUNT = (
    "You have no paper account yet: it opens when you verify your email address. Name one of your accounts in "
    "`account` (GET /accounts/)."
)
PLACE_INVALID = error_response(
    400,
    "Invalid input, with per-field `errors` naming the limit (an unknown `symbol`, a `quantity` below the market's "
    "minimum or finer than its step, a `price` off its tick, a missing field the type needs...), or "
    "`insufficient_funds` with `asset`, `required` and `available`. Nothing was placed.",
    PlaceInvalidSerializer,
)
PLACE_CONFLICT = error_response(
    409,
    "`client_order_id_conflict`: this client_order_id is taken by an order with other details; "
    "`account_inactive`: the account's exchange connection was revoked; `open_order_limit_reached`: you have "
    "`MAX_OPEN_ORDERS_PER_USER` (200) working orders. Nothing was placed.",
)
REJECTED = error_response(
    422,
    "`order_rejected`: the exchange refused the order. It is kept as `rejected` (see `order_id`), with `reject_code`.",
    OrderRejectedSerializer,
)
PLACE_EXAMPLES = [
    OpenApiExample(
        "Market buy",
        request_only=True,
        value={"symbol": "BTC/USDT", "side": "buy", "type": "market", "quantity": "0.001"},
    ),
    OpenApiExample(
        "Market buy for 50 USDT",
        request_only=True,
        value={"symbol": "ETH/USDT", "side": "buy", "type": "market", "quote_amount": "50"},
    ),
    OpenApiExample(
        "Limit buy, idempotent",
        request_only=True,
        value={
            "account": 1,
            "symbol": "BTC/USDT",
            "side": "buy",
            "type": "limit",
            "quantity": "0.001",
            "price": "50000",
            "client_order_id": "dip-buy-001",
        },
    ),
    OpenApiExample(
        "Trailing stop sell",
        request_only=True,
        value={
            "symbol": "BTC/USDT",
            "side": "sell",
            "type": "trailing_stop",
            "quantity": "0.001",
            "trailing_percent": "2",
        },
    ),
    OpenApiExample(
        "OCO sell",
        request_only=True,
        value={
            "symbol": "BTC/USDT",
            "side": "sell",
            "type": "oco",
            "quantity": "0.001",
            "price": "75000",
            "stop_price": "60000",
            "stop_limit_price": "59900",
        },
    ),
]
NO_PRICE = error_response(
    503,
    "`market_unavailable`: no price for this market right now (the exchange cannot be reached). Nothing was placed.",
)
NOT_CANCELLABLE = error_response(
    409,
    "`order_not_cancellable`: the order is already filled, cancelled, rejected or expired (on an exchange account: "
    "or the exchange filled it before the cancel reached it; its trades are recorded).",
)
EXCHANGE_FAILED = error_response(
    503,
    "`exchange_call_failed`: the exchange could not cancel the order now (`reason` says why); it is still working "
    "here as it is there. Try again.",
    ExchangeCallFailedSerializer,
)


class OrdersApiView(TradingApiView):
    def order(self) -> Order:
        return order_for(self.request.user, self.kwargs["order_id"])


@extend_schema_view(
    get=extend_schema(
        summary="Your orders",
        description="Newest first, every status; the filters are the order pages' (`open=true` for the working ones). "
        "An API key needs `read`.",
        tags=TAGS,
    )
)
@method_decorator(rate_limited("orders", per="user"), name="dispatch")  # POSTs only: placing an order
class OrderListCreateView(OrdersApiView, generics.ListAPIView):
    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet
    input_serializer = OrderPlaceSerializer

    def get_queryset(self):
        return orders_for(self.request.user)

    def default_account(self) -> TradingAccount:
        account = accounts_for(self.request.user).filter(kind=AccountKind.PAPER).first()
        if account is None:
            raise ValidationError({"account": [NO_PAPER_ACCOUNT]})
        return account

    @extend_schema(
        summary="Place an order",
        description="Market, limit, stop-loss, take-profit, stop-limit, trailing stop or OCO; buy or sell. `account` "
        "defaults to your paper account. Paper orders fill on the paper engine at the current price (market "
        "orders and marketable limits at once, resting ones on later ticks); on an exchange account market and "
        "limit orders go to the exchange as they are (`native`) and the other types are held here and sent when "
        "triggered (`emulated`). 201 with the order (an OCO's limit leg, both legs in `legs`); 200 with the "
        "same order when `client_order_id` repeats an order with the same details. At most "
        "`RATE_LIMIT_ORDERS` (20) per minute per user, the trade ticket's included. An API key needs `trade`.",
        request=OrderPlaceSerializer,
        examples=PLACE_EXAMPLES,
        responses={
            201: OpenApiResponse(OrderDetailSerializer, description="Placed."),
            200: OpenApiResponse(
                OrderDetailSerializer, description="Already placed with this client_order_id: that order, unchanged."
            ),
            400: PLACE_INVALID,
            409: PLACE_CONFLICT,
            422: REJECTED,
            503: NO_PRICE,
        },
        tags=TAGS,
    )
    def post(self, request):
        data = self.parse()
        account = data.pop("account", None) or self.default_account()
        result = order_place(actor=self.actor, account=account, **data)
        answer = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(OrderDetailSerializer(result.order).data, status=answer)


class OrderDetailView(OrdersApiView):
    @extend_schema(
        summary="One order",
        description="With its fills and, for an OCO, both legs. An API key needs `read`.",
        responses={200: OrderDetailSerializer},
        tags=TAGS,
    )
    def get(self, request, order_id: int):
        return Response(OrderDetailSerializer(self.order()).data)


class OrderCancelView(OrdersApiView):
    @extend_schema(
        summary="Cancel an order",
        operation_id="orders_cancel",
        description="Only a working order (pending, open, partially filled); its reservation is released. "
        "Cancelling either leg of an OCO cancels both. On an exchange account a native order is cancelled on "
        "the exchange first. An API key needs `trade`.",
        request=None,
        responses={200: OrderDetailSerializer, 409: NOT_CANCELLABLE, 503: EXCHANGE_FAILED},
        tags=TAGS,
    )
    def post(self, request, order_id: int):
        order = order_cancel(actor=self.actor, order=self.order())
        return Response(OrderDetailSerializer(order).data)
