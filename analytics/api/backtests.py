"""/api/v1/backtests/: backtests as stored jobs.

POST queues one (202 with its id; it runs on the worker, its progress on /ws/events as
`backtest.progress` and `backtest.finished`); GET lists yours (the list page's filters) or reads one
with its results; POST .../cancel/ stops one still queued or running; GET compare/?ids=1,2 puts 2 to 4
finished ones side by side. Bad input is a 400 naming each field (`strategy`, `params.fast`, `start`...).
Reading takes a personal API key's `read` scope, creating and cancelling `trade`. Another user's backtest
is not found (404) for every method.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from analytics.api.backtest_serializers import (
    BacktestCreateSerializer,
    BacktestDetailSerializer,
    BacktestSerializer,
    CompareQuerySerializer,
    CompareSerializer,
)
from analytics.filters import BacktestFilterSet
from analytics.models import Backtest
from analytics.selectors import backtest_for, backtests_for, backtests_to_compare, compared, parse_ids
from analytics.services import backtest_cancel, backtest_create
from cryptovault.api.schema import error_response
from cryptovault.api.views import ServiceApiView

TAGS = ["backtests"]
SCOPES = {"GET": "read", "POST": "trade"}
NOT_ACTIVE = error_response(409, "The backtest finished already (`backtest_not_active`); nothing changed.")


class BacktestsApiView(ServiceApiView):
    api_key_scopes = SCOPES

    def backtest(self) -> Backtest:
        return backtest_for(user=self.request.user, pk=self.kwargs["backtest_id"])


@extend_schema_view(
    get=extend_schema(
        summary="Your backtests",
        description="Newest first, without their results (`summary` holds the headline figures of finished "
        "ones); filter by `status`, `kind`, `strategy`. An API key needs `read`.",
        tags=TAGS,
    )
)
class BacktestListCreateView(BacktestsApiView, generics.ListAPIView):
    serializer_class = BacktestSerializer
    filterset_class = BacktestFilterSet
    input_serializer = BacktestCreateSerializer

    def get_queryset(self):
        return backtests_for(user=self.request.user)

    @extend_schema(
        summary="Run a backtest",
        description="Checks everything first (400 per field: an unknown strategy, parameters out of range or "
        "fast >= slow as `params.<name>`, execution settings as `execution.<name>`, a market or timeframe we do "
        "not serve, start after end, a range holding no stored candles or more than the limit, a bad search as "
        "`search.<name>`), then queues the job and answers 202 with it (`status` queued). Follow it with GET on "
        "its id, or live on /ws/events. An API key needs `trade`.",
        request=BacktestCreateSerializer,
        responses={202: BacktestSerializer},
        tags=TAGS,
    )
    def post(self, request):
        backtest = backtest_create(actor=self.actor, user=request.user, **self.parse())
        headers = {"Location": request.build_absolute_uri(f"{backtest.pk}/")}
        return Response(BacktestSerializer(backtest).data, status=status.HTTP_202_ACCEPTED, headers=headers)


class BacktestDetailView(BacktestsApiView):
    @extend_schema(
        summary="One backtest",
        description="Its settings, status and progress; when done its results (see the `results` field). An API "
        "key needs `read`.",
        responses={200: BacktestDetailSerializer},
        tags=TAGS,
    )
    def get(self, request, backtest_id: int):
        return Response(BacktestDetailSerializer(self.backtest()).data)


class BacktestCancelView(BacktestsApiView):
    @extend_schema(
        summary="Cancel a backtest",
        description="Only a queued or running one (409 `backtest_not_active` otherwise): the worker stops at its "
        "next step and stores nothing more. An API key needs `trade`.",
        request=None,
        responses={200: BacktestSerializer, 409: NOT_ACTIVE},
        tags=TAGS,
    )
    def post(self, request, backtest_id: int):
        return Response(BacktestSerializer(backtest_cancel(actor=self.actor, backtest=self.backtest())).data)


class BacktestCompareView(BacktestsApiView):
    @extend_schema(
        summary="Compare backtests",
        description="2 to 4 of your finished backtests side by side: each one's label, metrics and equity curve. "
        "Fewer, more, or one not finished is a 400 on `ids`; one that is not yours a 404. An API key needs `read`.",
        parameters=[CompareQuerySerializer],
        responses={200: CompareSerializer},
        tags=TAGS,
    )
    def get(self, request):
        ids = parse_ids(",".join(request.query_params.getlist("ids")))
        backtests = backtests_to_compare(user=request.user, ids=ids)
        return Response(CompareSerializer({"backtests": [compared(backtest) for backtest in backtests]}).data)
